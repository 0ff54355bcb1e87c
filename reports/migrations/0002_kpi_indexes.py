"""Indexes the live KPI queries need on other apps' tables, owned (and dropped) by ``reports``.

* SLA clocks by the instant a response/resolution target counts (``reports.kpis.CLOCK_PLACED``);
* met first-cycle first-response and resolution clocks by their end (response/resolution times);
* tickets by ``resolved_at`` (which tickets can have been open at the end of a past day).
"""

from django.db import migrations

PLACED = "(CASE WHEN state = 'met' AND due_at IS NULL THEN ended_at ELSE due_at END)"


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("sla", "0002_defaults"), ("tickets", "0001_initial")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS reports_clock_placed_idx ON sla_clock ({PLACED}) "
            "WHERE metric IN ('first_response', 'next_response', 'resolution')",
            "DROP INDEX IF EXISTS reports_clock_placed_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_clock_met_idx ON sla_clock (ended_at) "
            "WHERE state = 'met' AND cycle = 1 AND metric IN ('first_response', 'resolution')",
            "DROP INDEX IF EXISTS reports_clock_met_idx",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS reports_ticket_resolved_idx ON tickets_ticket (resolved_at)",
            "DROP INDEX IF EXISTS reports_ticket_resolved_idx",
        ),
    ]
