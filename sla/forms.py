"""HTML forms of the SLA administration. They check the shape of input only.

The rules (overlaps, one default policy, calendars in use...) live in ``sla.configure``; a
view turns the forms into its input dataclasses, calls it, and shows the ``ValidationError``
it raises on the page, field by field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.formsets import DELETION_FIELD_NAME

from helpdesk.core.zones import zone_choices
from tickets.filters import CategoryChoiceField
from tickets.models import Category, Channel, Priority, Vendor

from . import clock as bt
from .configure import (
    MAX_TARGET_MINUTES,
    PAUSE_STATUS_CHOICES,
    TARGET_COLUMNS,
    CalendarInput,
    HolidayInput,
    PolicyInput,
    TargetInput,
)
from .models import WEEKDAYS, BusinessCalendar, Policy


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name", help_text="E.g. “Office hours Berlin”.")
    timezone = forms.ChoiceField(
        label="Time zone", help_text="Working hours and holidays are local times of this zone."
    )
    always_open = forms.BooleanField(
        required=False,
        label="Open 24x7",
        help_text="Every hour counts; the working hours and holidays below are then ignored.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.data.get(self.add_prefix("timezone")) if self.is_bound else self.initial.get("timezone")
        # Any zone the tz database knows stays acceptable (a stored "Etc/GMT+5" can be saved again).
        zone_field = cast(forms.ChoiceField, self.fields["timezone"])
        zone_field.choices = zone_choices(current)

    @classmethod
    def for_calendar(cls, calendar: BusinessCalendar) -> CalendarForm:
        form = cls(initial={"name": calendar.name, "timezone": calendar.timezone, "always_open": calendar.always_open})
        cast(forms.ChoiceField, form.fields["timezone"]).choices = zone_choices(calendar.timezone)
        return form


TIME_INPUT = forms.TimeInput(attrs={"type": "time", "class": "form-control form-control-sm"}, format="%H:%M")


class IntervalForm(forms.Form):
    # The empty choice keeps an untouched blank row unchanged (so it is skipped, not refused).
    weekday = forms.TypedChoiceField(
        label="Day",
        choices=[("", "Choose a day"), *WEEKDAYS],
        coerce=int,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    start = forms.TimeField(label="From", widget=TIME_INPUT)
    end = forms.TimeField(label="Until", widget=TIME_INPUT)


class HolidayForm(forms.Form):
    day = forms.DateField(
        label="Date",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"),
    )
    name = forms.CharField(
        label="Name",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    yearly = forms.BooleanField(label="Every year", required=False)


class _RowFormSet(forms.BaseFormSet):
    """Blank extra rows are skipped; a ticked "Remove" drops a row."""

    def rows(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get(DELETION_FIELD_NAME, False)
        ]


IntervalFormSet = forms.formset_factory(
    IntervalForm, formset=_RowFormSet, extra=1, can_delete=True, max_num=70, validate_max=True
)
HolidayFormSet = forms.formset_factory(
    HolidayForm, formset=_RowFormSet, extra=1, can_delete=True, max_num=400, validate_max=True
)


def calendar_forms(data=None, calendar: BusinessCalendar | None = None):
    """The calendar form and its two formsets, bound to ``data`` or showing ``calendar``."""
    if data is not None:
        form = CalendarForm(data)
        return form, IntervalFormSet(data, prefix="intervals"), HolidayFormSet(data, prefix="holidays")
    if calendar is None:
        form = CalendarForm(initial={"timezone": "UTC"})
        weekdays = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]
        return form, IntervalFormSet(initial=weekdays, prefix="intervals"), HolidayFormSet(prefix="holidays")
    intervals = [{"weekday": i.weekday, "start": i.start, "end": i.end} for i in calendar.intervals.all()]
    holidays = [{"day": h.day, "name": h.name, "yearly": h.yearly} for h in calendar.holidays.all()]
    return (
        CalendarForm.for_calendar(calendar),
        IntervalFormSet(initial=intervals, prefix="intervals"),
        HolidayFormSet(initial=holidays, prefix="holidays"),
    )


def calendar_input(form: CalendarForm, intervals: _RowFormSet, holidays: _RowFormSet) -> CalendarInput:
    """The valid forms as the service's input."""
    data = form.cleaned_data
    return CalendarInput(
        name=data["name"],
        timezone=data["timezone"],
        always_open=data["always_open"],
        intervals=tuple(bt.WorkingInterval(r["weekday"], r["start"], r["end"]) for r in intervals.rows()),
        holidays=tuple(HolidayInput(r["day"], r.get("name", ""), r.get("yearly", False)) for r in holidays.rows()),
    )


def show_calendar_errors(error: ValidationError, form: CalendarForm, intervals, holidays) -> None:
    """Put the service's refusal where it belongs on the page."""
    for name, messages in error.message_dict.items():
        if name in ("name", "timezone", "always_open"):
            form.add_error(name, messages)
        elif name == "intervals":
            intervals._non_form_errors = intervals.error_class([*intervals.non_form_errors(), *messages])
        elif name == "holidays":
            holidays._non_form_errors = holidays.error_class([*holidays.non_form_errors(), *messages])
        else:
            form.add_error(None, messages)


# --------------------------------------------------------------------------- policies


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name")
    is_default = forms.BooleanField(
        required=False,
        label="Default policy",
        help_text="Applies to every ticket no other policy matches; its conditions are ignored. "
        "There is always exactly one: ticking this moves the flag here.",
    )
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.none(), label="Calendar", help_text="Business time the clocks count."
    )
    category = CategoryChoiceField(
        queryset=Category.objects.none(),
        required=False,
        label="Category",
        empty_label="Any category",
        help_text="Also matches its subcategories.",
    )
    requester_group = forms.ModelChoiceField(
        queryset=Group.objects.none(), required=False, label="Requester group", empty_label="Any group"
    )
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False, label="Channel")
    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.none(),
        required=False,
        label="Vendor",
        empty_label="Any vendor",
        help_text="The vendor a ticket is escalated to.",
    )
    pause_statuses = forms.MultipleChoiceField(
        choices=PAUSE_STATUS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Clocks pause while the ticket is",
        help_text="SLA and OLA clocks; a vendor (UC) clock pauses only while waiting for the requester.",
    )
    warning_percent = forms.IntegerField(min_value=1, max_value=99, initial=75, label="Warning at (% of the target)")
    notify_assignee = forms.BooleanField(required=False, initial=True, label="On breach: notify the assignee or tier")
    notify_managers = forms.BooleanField(
        required=False, initial=True, label="On breach: notify managers (hierarchical escalation)"
    )
    escalate_on_breach = forms.BooleanField(required=False, label="On breach: escalate the ticket one tier")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        querysets = {
            "calendar": BusinessCalendar.objects.order_by("name"),
            "category": Category.objects.select_related("parent").order_by("parent__name", "name"),
            "requester_group": Group.objects.order_by("name"),
            "vendor": Vendor.objects.order_by("name"),
        }
        for name, queryset in querysets.items():
            cast(forms.ModelChoiceField, self.fields[name]).queryset = queryset

    @classmethod
    def initial_for(cls, policy: Policy | None) -> dict:
        if policy is None:
            return {"pause_statuses": [value for value, _ in PAUSE_STATUS_CHOICES if value.startswith("pending")]}
        return {
            "name": policy.name,
            "is_default": policy.is_default,
            "calendar": policy.calendar_id,
            "category": policy.category_id,
            "requester_group": policy.requester_group_id,
            "channel": policy.channel,
            "vendor": policy.vendor_id,
            "pause_statuses": list(policy.pause_statuses),
            "warning_percent": policy.warning_percent,
            "notify_assignee": policy.notify_assignee,
            "notify_managers": policy.notify_managers,
            "escalate_on_breach": policy.escalate_on_breach,
        }


# --------------------------------------------------------------------------- target durations

# Minutes per unit of a target. A day is 24 hours of the time the clock counts: on the 8-hour
# office calendar "1 d" is three working days (the policy page says so beside the grid).
DAY_MINUTES = 24 * 60
_UNITS = {
    **dict.fromkeys(("d", "day", "days"), DAY_MINUTES),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 60),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 1),
}
_NUMBER = r"\d+(?:\.\d+)?"
_BARE_NUMBER = re.compile(rf"[+-]?{_NUMBER}")
_DURATION = re.compile(rf"(?:{_NUMBER}\s*[a-z]+\s*)+")
_DURATION_PART = re.compile(rf"({_NUMBER})\s*([a-z]+)")
DURATION_EXAMPLES = "“90 min”, “8 h”, “3 d” or “1 d 4 h”"


def parse_duration_minutes(text: str) -> int:
    """Whole minutes of a duration typed by a person: "90 min", "8 h", "1.5 h", "3 d", "1 d 4 h".

    A number alone is minutes ("1440"). Units may be written out ("2 hours", "1 day") and each
    may appear once; "d" is 24 hours. Raises ``ValidationError`` (codes ``invalid``,
    ``repeated``, ``fraction``) for anything else or for a total that is not whole minutes. Signs
    are kept on a bare number, so the caller's minimum refuses "-5" with its own message.
    """
    cleaned = text.strip().lower()
    if _BARE_NUMBER.fullmatch(cleaned):
        total = Decimal(cleaned)
    elif _DURATION.fullmatch(cleaned):
        total = Decimal(0)
        seen: set[int] = set()
        for number, unit in _DURATION_PART.findall(cleaned):
            if unit not in _UNITS:
                raise ValidationError(
                    "“%(unit)s” is not a unit: use d, h or min (%(examples)s).",
                    code="invalid",
                    params={"unit": unit, "examples": DURATION_EXAMPLES},
                )
            if _UNITS[unit] in seen:
                raise ValidationError("Name each unit once, as in “1 d 4 h”.", code="repeated")
            seen.add(_UNITS[unit])
            total += Decimal(number) * _UNITS[unit]
    else:
        raise ValidationError(
            "Enter a duration such as %(examples)s; a number alone counts as minutes.",
            code="invalid",
            params={"examples": DURATION_EXAMPLES},
        )
    if total != total.to_integral_value():
        raise ValidationError(
            "“%(text)s” is not a whole number of minutes.", code="fraction", params={"text": text.strip()}
        )
    return int(total)


def duration_text(minutes: int) -> str:
    """Minutes as ``parse_duration_minutes`` reads them back, largest units first: 4800 -> "3 d 8 h"."""
    days, rest = divmod(minutes, DAY_MINUTES)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return " ".join(part for part in parts if part) or "0 min"


class DurationMinutesField(forms.Field):
    """A target in whole minutes, typed and shown as a duration ("1 d 4 h"); a number alone is minutes.

    The one parser of SLA target durations: the policy page's grid and the API's ``minutes``
    (``sla.serializers.TargetMinutesField``) both clean their input with it. An integer passes
    through as minutes (the API's JSON numbers); anything but a string or an integer is refused.
    """

    widget = forms.TextInput

    def __init__(self, *, min_value: int = 1, max_value: int = MAX_TARGET_MINUTES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(MinValueValidator(min_value))
        self.validators.append(
            MaxValueValidator(max_value, message=f"A target can be at most {duration_text(max_value)} (ten years).")
        )

    def to_python(self, value: object) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError(
                "Enter a duration such as %(examples)s; a number alone counts as minutes.",
                code="invalid",
                params={"examples": DURATION_EXAMPLES},
            )
        return parse_duration_minutes(value)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return duration_text(value)
        return value

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "autocomplete": "off", "spellcheck": "false"}


def cell_name(metric: str, tier: int, priority: int) -> str:
    return f"{metric}_{tier}_p{priority}"


class TargetsForm(forms.Form):
    """The targets grid: a duration per (metric, tier) column and priority, each optionally on its own calendar.

    The calendar selects share one list of choices (one query for the page, however many cells).
    """

    prefix = "t"

    def __init__(self, *args, calendars: list[BusinessCalendar], **kwargs):
        super().__init__(*args, **kwargs)
        calendar_choices = [("", "As policy"), *((str(c.pk), c.name) for c in calendars)]
        for metric, tier, heading in TARGET_COLUMNS:
            for priority in Priority.values:
                name = cell_name(metric, tier, priority)
                self.fields[name] = DurationMinutesField(
                    required=False,
                    label=f"{heading}, P{priority}: target in business time (e.g. 8 h, 3 d, 90 min)",
                    widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "size": 8}),
                )
                self.fields[f"{name}_calendar"] = forms.TypedChoiceField(
                    required=False,
                    choices=calendar_choices,
                    coerce=int,
                    empty_value=None,
                    label=f"{heading}, P{priority}: calendar",
                    widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
                )

    @staticmethod
    def initial_for(policy: Policy | None) -> dict:
        if policy is None:
            return {}
        initial: dict[str, int | None] = {}
        for target in policy.targets.all():
            name = cell_name(target.metric, target.tier, target.priority)
            initial[name] = target.seconds // 60
            initial[f"{name}_calendar"] = target.calendar_id
        return initial

    def grid(self) -> list[tuple[str, list[tuple]]]:
        """Rows per priority: (label, [(minutes field, calendar field), ...]) in column order."""
        rows = []
        for priority, label in Priority.choices:
            cells = [
                (self[cell_name(metric, tier, priority)], self[f"{cell_name(metric, tier, priority)}_calendar"])
                for metric, tier, _ in TARGET_COLUMNS
            ]
            rows.append((label, cells))
        return rows

    def targets(self) -> dict:
        found = {}
        for metric, tier, _ in TARGET_COLUMNS:
            for priority in Priority.values:
                name = cell_name(metric, tier, priority)
                minutes = self.cleaned_data.get(name)
                if minutes is not None:
                    found[(metric, priority, tier)] = TargetInput(minutes, self.cleaned_data.get(f"{name}_calendar"))
        return found


def policy_input(form: PolicyForm, targets: TargetsForm) -> PolicyInput:
    data = form.cleaned_data
    return PolicyInput(
        name=data["name"],
        calendar_id=data["calendar"].pk,
        category_id=data["category"].pk if data["category"] else None,
        requester_group_id=data["requester_group"].pk if data["requester_group"] else None,
        channel=data["channel"],
        vendor_id=data["vendor"].pk if data["vendor"] else None,
        pause_statuses=tuple(data["pause_statuses"]),
        warning_percent=data["warning_percent"],
        notify_assignee=data["notify_assignee"],
        notify_managers=data["notify_managers"],
        escalate_on_breach=data["escalate_on_breach"],
        is_default=data["is_default"],
        targets=targets.targets(),
    )


def show_policy_errors(error: ValidationError, form: PolicyForm, targets: TargetsForm) -> None:
    for name, messages in error.message_dict.items():
        if name == "targets":
            targets.add_error(None, messages)
        elif name in form.fields and name != NON_FIELD_ERRORS:
            form.add_error(name, messages)
        else:
            form.add_error(None, messages)


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])
