"""Forms of the agent workspace lists: the queue page (bulk actions, columns, saved views) and logging a phone call.

They check the shape of the input only; the services decide what is allowed.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from helpdesk.core.models import User

from .filters import CategoryChoiceField, PersonChoiceField, categories, workers
from .models import Level, Status
from .services.bulk import BulkAction

MAX_BULK = 500


class IdListField(forms.Field):
    """Ticket ids from repeated ``ids`` checkboxes; anything but whole numbers is an error."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = []
        for raw in values:
            text = str(raw).strip()
            if not text.isdigit() or len(text) > 12:
                raise ValidationError("Ticket ids must be whole numbers.", code="invalid")
            ids.append(int(text))
        return list(dict.fromkeys(ids))

    def validate(self, value) -> None:
        super().validate(value)
        if len(value) > MAX_BULK:
            raise ValidationError(f"Select at most {MAX_BULK} tickets at once.", code="too_many")


BULK_STATUSES = [(s.value, s.label) for s in (Status.OPEN, Status.PENDING_REQUESTER, Status.PENDING_VENDOR)]


class BulkActionForm(forms.Form):
    ids = IdListField(error_messages={"required": "Select at least one ticket."})
    action = forms.ChoiceField(label="Action", choices=[("", "Choose an action…"), *BulkAction.choices])
    assignee = PersonChoiceField(label="Agent", queryset=workers(), required=False, empty_label="Choose an agent…")
    status = forms.ChoiceField(label="New status", choices=[("", "Choose a status…"), *BULK_STATUSES], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["assignee"]).queryset = workers()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        if action == BulkAction.ASSIGN and not data.get("assignee"):
            self.add_error("assignee", "Choose the agent to assign the tickets to.")
        if action == BulkAction.STATUS and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        return data


def find_user(text: str):
    """The active user whose username or e-mail is ``text`` (ignoring case), or None."""
    text = text.strip()
    if not text:
        return None
    matches = list(
        get_user_model().objects.filter(Q(username__iexact=text) | Q(email__iexact=text), is_active=True)[:2]
    )
    return matches[0] if len(matches) == 1 else None


class PhoneCallForm(forms.Form):
    requester = forms.CharField(
        label="Caller (username or e-mail)",
        max_length=254,
        help_text="The person who called; they must already have an account.",
    )
    subject = forms.CharField(label="Subject", max_length=200)
    description = forms.CharField(label="What the caller reported", widget=forms.Textarea(attrs={"rows": 5}))
    category = CategoryChoiceField(label="Category", queryset=categories(), required=False, empty_label="None")
    impact = forms.ChoiceField(label="Impact (how many people or how much work is affected)", choices=Level.choices)
    urgency = forms.ChoiceField(label="Urgency (how soon it must be fixed)", choices=Level.choices)
    resolution_note = forms.CharField(
        label="Resolved during the call",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Fill this in only if you fixed it on the phone: the ticket is then resolved at once.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"impact": Level.MEDIUM, "urgency": Level.MEDIUM})
        super().__init__(*args, **kwargs)
        cast(CategoryChoiceField, self.fields["category"]).queryset = categories()

    def clean_requester(self):
        user = find_user(self.cleaned_data["requester"])
        if user is None:
            raise ValidationError("No active user has that username or e-mail address.", code="unknown")
        return user


# The optional columns of the queue table, in the order they are shown; the reference and the
# subject are always shown. A person's choice is kept in User.queue_columns (empty: the default).
QUEUE_COLUMNS = {
    "requester": "Requester",
    "priority": "Priority",
    "due": "Due (SLA)",
    "status": "Status",
    "tier": "Tier",
    "assignee": "Assignee",
    "category": "Category",
    "created": "Created",
    "updated": "Updated",
    "channel": "Channel",
}
DEFAULT_COLUMNS = ["requester", "priority", "due", "status", "assignee", "updated"]


def chosen_columns(user: User) -> list[str]:
    """The queue columns ``user`` sees, in table order: their choice, or the default set when empty."""
    chosen = set(user.queue_columns or ()) & QUEUE_COLUMNS.keys()
    return [key for key in QUEUE_COLUMNS if key in chosen] if chosen else list(DEFAULT_COLUMNS)


class QueueColumnsForm(forms.Form):
    """The "Columns" form of the queue page; "reset" goes back to the default set."""

    columns = forms.MultipleChoiceField(
        label="Columns shown",
        choices=list(QUEUE_COLUMNS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    reset = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("reset") and not data.get("columns"):
            self.add_error("columns", "Choose at least one column, or reset to the default set.")
        return data


class SavedViewForm(forms.Form):
    """Save the queue's current filters and sort under a name (checked again by ``save_view``)."""

    name = forms.CharField(label="Name of the view", max_length=80)
    shared = forms.BooleanField(label="Share with every agent", required=False)
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)


class TicketSearchForm(forms.Form):
    """The top bar's search text (a NUL character or an over-long text is an error, not a crash)."""

    q = forms.CharField(label="Search tickets", max_length=200, required=False, strip=True)
