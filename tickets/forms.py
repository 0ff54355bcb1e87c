"""HTML forms of the tickets app. They check the shape of input only; the services hold the rules.

Several of the ticket page's forms share field names (``reason``, ``body``); each form gets
its own ``auto_id`` so the ids in the page stay unique while the posted names stay plain.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from . import roles
from .filters import PersonChoiceField
from .models import Category, Level, MessageKind, Priority, Status, Tier, Vendor, parse_reference

# The words requesters are offered for impact and urgency, mapped to the Level the matrix uses.
IMPACT_CHOICES = [
    (Level.LOW, "Just me"),
    (Level.MEDIUM, "My team"),
    (Level.HIGH, "The whole company"),
]
URGENCY_CHOICES = [
    (Level.LOW, "It can wait"),
    (Level.MEDIUM, "It slows me down"),
    (Level.HIGH, "I cannot work"),
]


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that lets people pick several files at once."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several optional files; ``clean`` returns a list (empty when nothing was chosen)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_clean(item, initial) for item in data if item]
        return [single_clean(data, initial)] if data else []


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(label="Attachments", help_text="Optional; you can choose several files.")


def _textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def active_categories():
    return Category.objects.filter(is_active=True).select_related("parent").order_by("parent__name", "name")


class NewTicketForm(forms.Form):
    subject = forms.CharField(max_length=200, label="Subject", help_text="A short summary of the problem.")
    description = forms.CharField(
        widget=_textarea(8), label="Description", help_text="What happened, and what you tried. Markdown works."
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, label="Category", empty_label="I don't know"
    )
    impact = forms.ChoiceField(
        choices=IMPACT_CHOICES, initial=Level.LOW, widget=forms.RadioSelect, label="Who is affected?"
    )
    urgency = forms.ChoiceField(
        choices=URGENCY_CHOICES, initial=Level.MEDIUM, widget=forms.RadioSelect, label="How urgent is it?"
    )
    attachments = _attachments_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = active_categories()


class ReplyForm(forms.Form):
    body = forms.CharField(widget=_textarea(5), label="Your reply", help_text="Markdown works.")
    attachments = _attachments_field()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)


class FollowUpForm(forms.Form):
    body = forms.CharField(
        widget=_textarea(5),
        label="Your message",
        help_text="This ticket is closed: your message starts a new ticket linked to it.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "followup_%s")
        super().__init__(*args, **kwargs)


class NoteForm(forms.Form):
    body = forms.CharField(widget=_textarea(4), label="Internal note", help_text="Only agents and managers see it.")
    attachments = _attachments_field()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)


class VersionedForm(forms.Form):
    """A form that changes the ticket's own fields: it carries the ticket version it was shown with.

    The action refuses the change if the ticket moved on since (someone else changed it) and
    shows both values instead of overwriting theirs; a form sent without it is not checked.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


class AssignForm(VersionedForm):
    assignee = PersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Assignee", empty_label="Nobody"
    )

    def __init__(self, *args, tier: int, **kwargs):
        kwargs.setdefault("auto_id", "assign_%s")
        super().__init__(*args, **kwargs)
        cast(PersonChoiceField, self.fields["assignee"]).queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .filter(
                Q(groups__name=roles.GROUP_AGENT, tier_memberships__tier=tier) | Q(groups__name=roles.GROUP_MANAGER)
            )
            .distinct()
            .order_by("first_name", "last_name", "username")
        )


class StatusForm(VersionedForm):
    status = forms.ChoiceField(choices=Status.choices, label="Status")

    def __init__(self, *args, allowed: list[str] | None = None, **kwargs):
        kwargs.setdefault("auto_id", "status_%s")
        super().__init__(*args, **kwargs)
        if allowed is not None:
            # Offer only the allowed targets; any status is accepted, so the service explains a refusal.
            self.fields["status"].widget.choices = [(v, label) for v, label in Status.choices if v in allowed]


class PriorityForm(VersionedForm):
    impact = forms.ChoiceField(choices=Level.choices, label="Impact")
    urgency = forms.ChoiceField(choices=Level.choices, label="Urgency")
    priority = forms.TypedChoiceField(
        choices=[("", "Follow the matrix"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Override priority",
    )
    reason = forms.CharField(
        max_length=500, required=False, label="Reason for the override", help_text="Required to override."
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "priority_%s")
        super().__init__(*args, **kwargs)


class CategoryForm(VersionedForm):
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, label="Category", empty_label="No category"
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "category_%s")
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = active_categories()


# The statuses a macro may set (those of an agent's direct moves; resolving needs its note).
MACRO_STATUSES = (Status.OPEN, Status.PENDING_REQUESTER, Status.PENDING_VENDOR)

AGENT_AND_VENDOR_TIERS = [Tier.T1, Tier.T2, Tier.T3, Tier.T4]


def _tier_choices(tiers) -> list[tuple[int, str]]:
    return [(int(t), Tier(t).label) for t in tiers]


class EscalateForm(VersionedForm):
    reason = forms.CharField(
        widget=_textarea(4),
        label="Escalation note",
        help_text="What was tried and what is known; the next tier relies on it.",
    )
    to_tier = forms.TypedChoiceField(choices=[], coerce=int, label="Escalate to")
    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.none(),
        required=False,
        label="Vendor",
        empty_label="Choose a vendor (tier 4 only)",
        help_text="Only for tier 4 (vendors): required there.",
    )
    vendor_reference = forms.CharField(
        max_length=100,
        required=False,
        label="Vendor's reference",
        help_text="Only for tier 4: the vendor's case number.",
    )

    def __init__(self, *args, current_tier: int | None = None, **kwargs):
        kwargs.setdefault("auto_id", "escalate_%s")
        super().__init__(*args, **kwargs)
        # Every tier is accepted and the higher ones are offered: the service explains a wrong move.
        to_tier = cast(forms.TypedChoiceField, self.fields["to_tier"])
        to_tier.choices = _tier_choices(AGENT_AND_VENDOR_TIERS)
        to_tier.widget.choices = _tier_choices(
            [t for t in AGENT_AND_VENDOR_TIERS if current_tier is None or t > current_tier]
        )
        cast(forms.ModelChoiceField, self.fields["vendor"]).queryset = Vendor.objects.filter(is_active=True)


class DeescalateForm(VersionedForm):
    reason = forms.CharField(widget=_textarea(4), label="De-escalation note")
    to_tier = forms.TypedChoiceField(choices=[], coerce=int, label="Move down to")

    def __init__(self, *args, current_tier: int | None = None, **kwargs):
        kwargs.setdefault("auto_id", "deescalate_%s")
        super().__init__(*args, **kwargs)
        to_tier = cast(forms.TypedChoiceField, self.fields["to_tier"])
        to_tier.choices = _tier_choices(AGENT_AND_VENDOR_TIERS)
        lower = [t for t in reversed(AGENT_AND_VENDOR_TIERS) if current_tier is None or t < current_tier]
        to_tier.widget.choices = _tier_choices(lower)


class NotifyManagersForm(forms.Form):
    reason = forms.CharField(widget=_textarea(3), label="Why the managers should look at it")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "managers_%s")
        super().__init__(*args, **kwargs)


class ResolveForm(VersionedForm):
    resolution_note = forms.CharField(
        widget=_textarea(4), label="Resolution note", help_text="What fixed it; the requester sees this."
    )
    resolve_incidents = forms.BooleanField(required=False, label="Also resolve its incidents")

    def __init__(self, *args, open_incidents: int = 0, **kwargs):
        kwargs.setdefault("auto_id", "resolve_%s")
        super().__init__(*args, **kwargs)
        if open_incidents:
            self.fields["resolve_incidents"].label = f"Also resolve its {open_incidents} open incident(s)"
        else:
            self.fields["resolve_incidents"].widget = forms.HiddenInput()


class ReopenForm(forms.Form):
    reason = forms.CharField(widget=_textarea(2), required=False, label="Why reopen? (optional)")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reopen_%s")
        super().__init__(*args, **kwargs)


class TicketReferenceForm(forms.Form):
    """A ticket typed by its reference (``HD-000123``); cleans to its id."""

    reference = forms.CharField(max_length=20, label="Ticket reference", help_text="For example HD-000123.")

    def __init__(self, *args, prefix_id: str = "ref", required: bool = True, **kwargs):
        kwargs.setdefault("auto_id", f"{prefix_id}_%s")
        super().__init__(*args, **kwargs)
        self.fields["reference"].required = required

    def clean_reference(self) -> int | None:
        text = self.cleaned_data["reference"].strip()
        if not text and not self.fields["reference"].required:
            return None
        pk = parse_reference(text)
        if pk is None:
            raise forms.ValidationError("Enter a ticket reference such as HD-000123.")
        return pk


class WatcherForm(forms.Form):
    """Shape only: who is meant, and whether they may follow, is ``services.add_watcher_by_address``'s."""

    who = forms.CharField(
        max_length=254,
        label="E-mail address",
        help_text="A colleague's e-mail address (agents may also give a username).",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "watcher_%s")
        super().__init__(*args, **kwargs)


# --------------------------------------------------------------------------- the composer


class ComposeForm(VersionedForm):
    """The ticket page's composer: a reply, note or vendor message, and field changes, in one submit.

    Shape only. ``kinds`` are the message kinds the user may write here (the first is the
    default); ``work`` adds the field changes (status, priority, category, assignee) for those
    who work the ticket, with ``statuses`` the ones offered and ``tier`` the assignees' tier.
    """

    kind = forms.ChoiceField(choices=[], widget=forms.RadioSelect, label="Write")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        label="Message",
        help_text="Markdown works. Leave it empty to change only the fields.",
    )
    attachments = _attachments_field()
    status = forms.ChoiceField(choices=Status.choices, label="Status")
    impact = forms.ChoiceField(choices=Level.choices, label="Impact")
    urgency = forms.ChoiceField(choices=Level.choices, label="Urgency")
    priority = forms.TypedChoiceField(
        choices=[("", "Follow the matrix"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Priority",
    )
    reason = forms.CharField(
        max_length=500,
        required=False,
        label="Reason for the override",
        help_text="Required when the priority departs from the matrix.",
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, label="Category", empty_label="No category"
    )
    assignee = PersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, label="Assignee", empty_label="Nobody"
    )

    FIELD_CHANGES = ("status", "impact", "urgency", "priority", "reason", "category", "assignee")

    def __init__(
        self,
        *args,
        kinds: list[tuple[str, str]],
        work: bool = False,
        statuses: list[str] | None = None,
        tier: int = Tier.T1,
        **kwargs,
    ):
        kwargs.setdefault("auto_id", "compose_%s")
        super().__init__(*args, **kwargs)
        kind = cast(forms.ChoiceField, self.fields["kind"])
        kind.choices = kinds
        if kinds:
            self.initial.setdefault("kind", kinds[0][0])
        if len(kinds) <= 1:
            kind.widget = forms.HiddenInput()
        if not work:
            for name in self.FIELD_CHANGES:
                del self.fields[name]
            return
        if statuses is not None:
            # Offer only the allowed targets; any status is accepted, so the service explains a refusal.
            self.fields["status"].widget.choices = [(v, label) for v, label in Status.choices if v in statuses]
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = active_categories()
        cast(PersonChoiceField, self.fields["assignee"]).queryset = assignable_people(tier)

    @property
    def changes_fields(self) -> bool:
        return "status" in self.fields

    def clean(self):
        data = super().clean() or {}
        # The version is checked only when the submit changes a field (``compose``): a reply
        # alone is never refused because someone else changed the ticket meanwhile.
        data["shown_version"] = data.pop("version", None)
        return data


def assignable_people(tier: int):
    """Agents of ``tier`` and managers: whom a ticket of that tier may be assigned to."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=roles.GROUP_AGENT, tier_memberships__tier=tier) | Q(groups__name=roles.GROUP_MANAGER))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class PreviewForm(forms.Form):
    """The composer's text, for the Markdown preview."""

    body = forms.CharField(required=False, max_length=100_000)


class MacroForm(forms.Form):
    """A macro's fields (shape only; ``services.save_macro`` holds the rules)."""

    name = forms.CharField(max_length=80, label="Name")
    personal = forms.BooleanField(
        required=False, initial=True, label="Personal", help_text="Only you see a personal macro."
    )
    tier = forms.TypedChoiceField(
        choices=[("", "Every tier"), *[(int(t), Tier(t).label) for t in (Tier.T1, Tier.T2, Tier.T3, Tier.T4)]],
        coerce=int,
        empty_value=None,
        required=False,
        label="Tier",
        help_text="For a tier macro (managers): the tier whose agents use it.",
    )
    kind = forms.ChoiceField(choices=MessageKind.choices, label="Writes", initial=MessageKind.PUBLIC)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        label="Text",
        help_text="Markdown. Placeholders: {requester}, {reference}, {subject}, {agent}.",
    )
    status = forms.ChoiceField(
        choices=[("", "Leave as it is"), *[(v, label) for v, label in Status.choices if v in MACRO_STATUSES]],
        required=False,
        label="Set status",
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Leave as it is"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Set priority",
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, label="Set category", empty_label="Leave as it is"
    )
    assign_to_me = forms.BooleanField(required=False, label="Assign the ticket to me")

    def __init__(self, *args, shared: bool = False, **kwargs):
        kwargs.setdefault("auto_id", "macro_%s")
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["category"]).queryset = active_categories()
        if not shared:
            # Agents keep personal macros only.
            del self.fields["tier"]
            self.fields["personal"].widget = forms.HiddenInput()
            self.fields["personal"].initial = True

    def clean(self):
        data = super().clean() or {}
        if "tier" not in self.fields:
            data["personal"] = True
            data["tier"] = None
        return data


class ApplyMacroForm(VersionedForm):
    """Which macro to apply on the ticket (the composer's macro picker)."""

    macro = forms.IntegerField(label="Macro", min_value=1)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "macro_apply_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean() or {}
        data["shown_version"] = data.pop("version", None)
        return data
