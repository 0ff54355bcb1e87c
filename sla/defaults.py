"""The SLA set-up a new helpdesk starts with (installed by migration ``0002_defaults``).

P1 runs around the clock (15 min first response, 4 h resolution); P2-P4 count office hours
(Monday-Friday 09:00-17:00 in ``TIME_ZONE``, so a business day is 8 hours): P2 1 h / 8 h,
P3 4 h / 3 days, P4 1 day / 10 days. Each tier may hold a ticket for its OLA target, a
vendor for its UC target. Managers change all of it on the SLA pages.

The functions take the model classes as arguments so the migration can pass its historical
models and tests (whose flushes empty these tables) the current ones.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings

H = 3600
DAY = 8 * H  # one business day of the office-hours calendar
SLA_TARGETS = {
    "first_response": {1: 15 * 60, 2: 1 * H, 3: 4 * H, 4: 1 * DAY},
    "next_response": {1: 30 * 60, 2: 2 * H, 3: 1 * DAY, 4: 2 * DAY},
    "resolution": {1: 4 * H, 2: 8 * H, 3: 3 * DAY, 4: 10 * DAY},
}
OLA_TARGETS = {
    1: {1: 1 * H, 2: 2 * H, 3: 1 * DAY, 4: 2 * DAY},
    2: {1: 2 * H, 2: 4 * H, 3: 2 * DAY, 4: 5 * DAY},
    3: {1: 2 * H, 2: 8 * H, 3: 3 * DAY, 4: 5 * DAY},
}
UC_TARGETS = {1: 4 * H, 2: 2 * DAY, 3: 5 * DAY, 4: 10 * DAY}


def seed_defaults(*, calendar_model, interval_model, policy_model, target_model, settings_model) -> bool:
    """Install the default calendars and policy unless a policy exists; True if it did."""
    import secrets

    if not settings_model.objects.exists():
        settings_model.objects.create(version=secrets.randbits(62))
    if policy_model.objects.exists():
        return False
    zone = settings.TIME_ZONE or "UTC"
    always, _ = calendar_model.objects.get_or_create(name="24x7", defaults={"timezone": zone, "always_open": True})
    office, created = calendar_model.objects.get_or_create(name="Office hours", defaults={"timezone": zone})
    if created:
        interval_model.objects.bulk_create(
            interval_model(calendar=office, weekday=day, start=time(9), end=time(17)) for day in range(5)
        )
    policy = policy_model.objects.create(name="Standard", position=1000, is_default=True, calendar=office)
    targets = [
        target_model(policy=policy, metric=metric, priority=priority, seconds=seconds)
        for metric, by_priority in SLA_TARGETS.items()
        for priority, seconds in by_priority.items()
    ]
    targets += [
        target_model(policy=policy, metric="ola", tier=tier, priority=priority, seconds=seconds)
        for tier, by_priority in OLA_TARGETS.items()
        for priority, seconds in by_priority.items()
    ]
    targets += [target_model(policy=policy, metric="uc", priority=p, seconds=s) for p, s in UC_TARGETS.items()]
    for target in targets:
        if target.priority == 1:
            target.calendar = always  # P1 never waits for office hours
    target_model.objects.bulk_create(targets)
    settings_model.objects.update(version=secrets.randbits(62))
    return True


def ensure_defaults() -> bool:
    """``seed_defaults`` with the current models (tests; a database emptied by hand)."""
    from .models import BusinessCalendar, Policy, SlaSettings, Target, WorkingInterval

    return seed_defaults(
        calendar_model=BusinessCalendar,
        interval_model=WorkingInterval,
        policy_model=Policy,
        target_model=Target,
        settings_model=SlaSettings,
    )
