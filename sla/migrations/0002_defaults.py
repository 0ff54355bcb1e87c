"""Sensible defaults: a 24x7 and an office-hours calendar, and one default policy with targets.

P1 runs around the clock (15 min first response, 4 h resolution); P2-P4 count office hours
(Monday-Friday 09:00-17:00, so a business day is 8 hours): P2 1 h / 8 h, P3 4 h / 3 days,
P4 1 day / 10 days. Managers change all of it on the SLA pages.
"""

from datetime import time

from django.conf import settings
from django.db import migrations

H = 3600
DAY = 8 * H  # one business day of the office-hours calendar
# metric -> {priority: seconds}; P1 targets run on the 24x7 calendar.
SLA = {
    "first_response": {1: 15 * 60, 2: 1 * H, 3: 4 * H, 4: 1 * DAY},
    "next_response": {1: 30 * 60, 2: 2 * H, 3: 1 * DAY, 4: 2 * DAY},
    "resolution": {1: 4 * H, 2: 8 * H, 3: 3 * DAY, 4: 10 * DAY},
}
OLA = {  # per tier: the time each tier may hold a ticket
    1: {1: 1 * H, 2: 2 * H, 3: 1 * DAY, 4: 2 * DAY},
    2: {1: 2 * H, 2: 4 * H, 3: 2 * DAY, 4: 5 * DAY},
    3: {1: 2 * H, 2: 8 * H, 3: 3 * DAY, 4: 5 * DAY},
}
UC = {1: 4 * H, 2: 2 * DAY, 3: 5 * DAY, 4: 10 * DAY}


def seed(apps, schema_editor):
    Calendar = apps.get_model("sla", "BusinessCalendar")
    Interval = apps.get_model("sla", "WorkingInterval")
    Policy = apps.get_model("sla", "Policy")
    Target = apps.get_model("sla", "Target")
    Settings = apps.get_model("sla", "SlaSettings")
    Settings.objects.get_or_create(pk=1, defaults={"version": 1})
    if Policy.objects.exists():
        return
    zone = settings.TIME_ZONE or "UTC"
    always = Calendar.objects.create(name="24x7", timezone=zone, always_open=True)
    office = Calendar.objects.create(name="Office hours", timezone=zone)
    Interval.objects.bulk_create(Interval(calendar=office, weekday=d, start=time(9), end=time(17)) for d in range(5))
    policy = Policy.objects.create(name="Standard", position=1000, is_default=True, calendar=office)
    targets = []
    for metric, by_priority in SLA.items():
        for priority, seconds in by_priority.items():
            targets.append(Target(policy=policy, metric=metric, priority=priority, seconds=seconds))
    for tier, by_priority in OLA.items():
        for priority, seconds in by_priority.items():
            targets.append(Target(policy=policy, metric="ola", tier=tier, priority=priority, seconds=seconds))
    for priority, seconds in UC.items():
        targets.append(Target(policy=policy, metric="uc", priority=priority, seconds=seconds))
    for target in targets:
        if target.priority == 1:
            target.calendar = always
    Target.objects.bulk_create(targets)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_clocks")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
