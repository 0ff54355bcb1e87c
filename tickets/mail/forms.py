"""The person's preferences form (mail and time zone): the shape of the input only."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from helpdesk.core.zones import zone_choices


class PreferencesForm(forms.ModelForm):
    """Non-essential mail on or off, and the zone every page shows times in ("" = the desk's zone).

    The zone is one of the offered IANA names; a zone saved earlier that the list leaves out (such
    as "Etc/GMT+5") stays selectable, anything else is refused with a form error.
    """

    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        help_text="Every date and time in the helpdesk is shown in this zone.",
    )

    class Meta:
        model = get_user_model()
        fields = ["receive_optional_email", "time_zone"]
        labels = {"receive_optional_email": "Send me non-essential e-mail"}
        help_texts = {
            "receive_optional_email": (
                "Status changes, copies of tickets I watch, reopen notices, assignment and escalation "
                "notices, SLA warnings."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = cast(forms.ChoiceField, self.fields["time_zone"])
        zone.choices = zone_choices(self.instance.time_zone, empty_label=f"The desk's time zone ({settings.TIME_ZONE})")
