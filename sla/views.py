"""Managers' SLA pages: business calendars and the ordered list of policies with their targets.

Views parse the forms, call one ``sla.configure`` service and render; a refusal comes back
as errors on the page (status 400) and nothing is written. Every change bumps the SLA
settings version inside the service, so cached policy snapshots refresh.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from helpdesk.core.db import TransactionConflict
from tickets.roles import Role, role_required

from . import configure
from .forms import (
    MoveForm,
    PolicyForm,
    TargetsForm,
    calendar_forms,
    calendar_input,
    policy_input,
    show_calendar_errors,
    show_policy_errors,
)
from .models import BusinessCalendar, Policy, Target, WorkingInterval

manager_required = role_required(Role.MANAGER)
DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def working_hours(intervals: list[WorkingInterval]) -> list[str]:
    """Intervals in words, days with the same hours merged: ["Mon-Fri 09:00-17:00", "Sat 22:00-06:00 (next day)"]."""
    by_times: dict[tuple, list[int]] = {}
    for interval in sorted(intervals, key=lambda i: (i.start, i.end, i.weekday)):
        by_times.setdefault((interval.start, interval.end), []).append(interval.weekday)
    lines = []
    for (start, end), days in sorted(by_times.items(), key=lambda item: (min(item[1]), item[0])):
        runs: list[list[int]] = []
        for day in sorted(set(days)):
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        names = ", ".join(
            DAY_ABBREVIATIONS[run[0]] if len(run) == 1 else f"{DAY_ABBREVIATIONS[run[0]]}-{DAY_ABBREVIATIONS[run[-1]]}"
            for run in runs
        )
        overnight = " (next day)" if end <= start and end.hour + end.minute else ""
        lines.append(f"{names} {start:%H:%M}-{end:%H:%M}{overnight}")
    return lines


# --------------------------------------------------------------------------- calendars


@require_safe
@manager_required
def calendar_list(request):
    """Every calendar with its zone, working hours, holidays and the number of policies using it."""
    calendars = (
        BusinessCalendar.objects.annotate(
            holiday_count=Count("holidays", distinct=True),
            policy_count=Count("policies", distinct=True),
            target_use=Exists(Target.objects.filter(calendar=OuterRef("pk"))),
        )
        .prefetch_related(Prefetch("intervals", queryset=WorkingInterval.objects.order_by("weekday", "start")))
        .order_by("name")
    )
    rows = [(calendar, working_hours(list(calendar.intervals.all()))) for calendar in calendars]
    return render(request, "sla/calendar_list.html", {"rows": rows})


def _refusal_text(error: ValidationError | TransactionConflict) -> str:
    """What to tell the manager when a change was refused (a rule) or kept colliding (nothing saved)."""
    if isinstance(error, TransactionConflict):
        return str(error.detail)
    return " ".join(error.messages)


def _calendar_page(request, calendar, forms, status=200):
    form, intervals, holidays = forms
    context = {
        "calendar": calendar,
        "form": form,
        "intervals": intervals,
        "holidays": holidays,
        "users": configure.calendar_users(calendar) if calendar else [],
    }
    return render(request, "sla/calendar_form.html", context, status=status)


def _save_calendar(request, calendar: BusinessCalendar | None):
    forms = calendar_forms(request.POST)
    form, intervals, holidays = forms
    if form.is_valid() and intervals.is_valid() and holidays.is_valid():
        try:
            saved = configure.save_calendar(
                calendar_id=calendar.pk if calendar else None, data=calendar_input(form, intervals, holidays)
            )
        except ValidationError as error:
            show_calendar_errors(error, form, intervals, holidays)
        except TransactionConflict as conflict:  # retried already: nothing saved, the input stays
            messages.error(request, str(conflict.detail))
            return _calendar_page(request, calendar, forms, status=conflict.status_code)
        else:
            verb = "saved" if calendar else "created"
            messages.success(request, f"Calendar “{saved.name}” {verb}.")
            return redirect("sla:calendars")
    return _calendar_page(request, calendar, forms, status=400)


@manager_required
def calendar_new(request):
    if request.method == "POST":
        return _save_calendar(request, None)
    return _calendar_page(request, None, calendar_forms())


@manager_required
def calendar_edit(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar.objects.prefetch_related("intervals", "holidays"), pk=pk)
    if request.method == "POST":
        return _save_calendar(request, calendar)
    return _calendar_page(request, calendar, calendar_forms(calendar=calendar))


@require_POST
@manager_required
def calendar_delete(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    try:
        name = configure.delete_calendar(calendar_id=calendar.pk)
    except (ValidationError, TransactionConflict) as error:
        messages.error(request, _refusal_text(error))
        return redirect("sla:calendar_edit", pk=calendar.pk)
    messages.success(request, f"Calendar “{name}” deleted.")
    return redirect("sla:calendars")


# --------------------------------------------------------------------------- policies


def conditions(policy: Policy) -> list[str]:
    """The policy's conditions in words (empty: matches every ticket)."""
    parts = []
    # A foreign key left empty reads as None without a query.
    category = policy.category
    if category is not None:
        parent = category.parent
        parts.append(f"Category {parent.name} / {category.name}" if parent is not None else category.name)
    if policy.requester_group is not None:
        parts.append(f"Requester group {policy.requester_group.name}")
    if policy.channel:
        parts.append(f"Channel {policy.get_channel_display()}")
    if policy.vendor is not None:
        parts.append(f"Vendor {policy.vendor.name}")
    return parts


@require_safe
@manager_required
def policy_list(request):
    """Policies in matching order (first match wins), the default last: it applies when none matches."""
    policies = list(
        Policy.objects.select_related("calendar", "category__parent", "requester_group", "vendor")
        .annotate(target_count=Count("targets"))
        .order_by("is_default", "position", "pk")
    )
    ordered = [p for p in policies if not p.is_default]
    rows = [
        {"policy": policy, "conditions": conditions(policy), "first": index == 0, "last": index == len(ordered) - 1}
        for index, policy in enumerate(ordered)
    ]
    default = next((p for p in policies if p.is_default), None)
    return render(request, "sla/policy_list.html", {"rows": rows, "default": default})


def _policy_page(request, policy, form, targets, status=200):
    context = {
        "policy": policy,
        "form": form,
        "targets": targets,
        "columns": [heading for _, _, heading in configure.TARGET_COLUMNS],
    }
    return render(request, "sla/policy_form.html", context, status=status)


def _calendars() -> list[BusinessCalendar]:
    return list(BusinessCalendar.objects.order_by("name").only("pk", "name"))


@manager_required
def policy_new(request):
    if request.method == "POST":
        return _save_policy(request, None)
    form = PolicyForm(initial=PolicyForm.initial_for(None))
    return _policy_page(request, None, form, TargetsForm(calendars=_calendars()))


@manager_required
def policy_edit(request, pk: int):
    policy = get_object_or_404(Policy.objects.prefetch_related("targets"), pk=pk)
    if request.method == "POST":
        return _save_policy(request, policy)
    form = PolicyForm(initial=PolicyForm.initial_for(policy))
    targets = TargetsForm(initial=TargetsForm.initial_for(policy), calendars=_calendars())
    return _policy_page(request, policy, form, targets)


def _save_policy(request, policy: Policy | None):
    form = PolicyForm(request.POST)
    targets = TargetsForm(request.POST, calendars=_calendars())
    if form.is_valid() and targets.is_valid():
        try:
            saved = configure.save_policy(policy_id=policy.pk if policy else None, data=policy_input(form, targets))
        except ValidationError as error:
            show_policy_errors(error, form, targets)
        except TransactionConflict as conflict:  # retried already: nothing saved, the input stays
            messages.error(request, str(conflict.detail))
            return _policy_page(request, policy, form, targets, status=conflict.status_code)
        else:
            verb = "saved" if policy else "created"
            messages.success(request, f"Policy “{saved.name}” {verb}.")
            return redirect("sla:policies")
    return _policy_page(request, policy, form, targets, status=400)


@require_POST
@manager_required
def policy_delete(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    try:
        name = configure.delete_policy(policy_id=policy.pk)
    except (ValidationError, TransactionConflict) as error:
        messages.error(request, _refusal_text(error))
        return redirect("sla:policy_edit", pk=policy.pk)
    messages.success(request, f"Policy “{name}” deleted.")
    return redirect("sla:policies")


@require_POST
@manager_required
def policy_move(request, pk: int):
    policy = get_object_or_404(Policy, pk=pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose to move the policy up or down.")
    else:
        try:
            moved = configure.move_policy(policy_id=policy.pk, up=form.cleaned_data["direction"] == "up")
        except TransactionConflict as conflict:
            messages.error(request, str(conflict.detail))
        else:
            direction = form.cleaned_data["direction"]
            if moved:
                messages.success(request, f"Policy “{policy.name}” moved {direction}.")
            else:
                messages.info(request, f"Policy “{policy.name}” cannot move further {direction}.")
    return redirect("sla:policies")


__all__ = [
    "calendar_delete",
    "calendar_edit",
    "calendar_list",
    "calendar_new",
    "policy_delete",
    "policy_edit",
    "policy_list",
    "policy_move",
    "policy_new",
]
