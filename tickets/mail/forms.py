"""The e-mail preferences form: the shape of the input only."""

from django import forms
from django.contrib.auth import get_user_model


class MailPreferencesForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["receive_optional_email"]
        labels = {"receive_optional_email": "Send me non-essential e-mail"}
        help_texts = {
            "receive_optional_email": (
                "Status changes, copies of tickets I watch, reopen notices, assignment and escalation "
                "notices, SLA warnings."
            )
        }
