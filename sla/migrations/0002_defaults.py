"""Sensible defaults (``sla.defaults``): a 24x7 and an office-hours calendar, a default policy.

P1 runs around the clock (15 min first response, 4 h resolution); P2-P4 count office hours
(Monday-Friday 09:00-17:00, so a business day is 8 hours): P2 1 h / 8 h, P3 4 h / 3 days,
P4 1 day / 10 days. Managers change all of it on the SLA pages.
"""

from django.db import migrations

from sla.defaults import seed_defaults


def seed(apps, schema_editor):
    seed_defaults(
        calendar_model=apps.get_model("sla", "BusinessCalendar"),
        interval_model=apps.get_model("sla", "WorkingInterval"),
        policy_model=apps.get_model("sla", "Policy"),
        target_model=apps.get_model("sla", "Target"),
        settings_model=apps.get_model("sla", "SlaSettings"),
    )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_clocks")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
