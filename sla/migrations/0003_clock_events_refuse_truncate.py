from django.db import migrations

FORWARD = """
CREATE TRIGGER sla_clockevent_refuses_truncate
    BEFORE TRUNCATE ON sla_clockevent
    FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_refuse_truncate();
"""

BACKWARD = "DROP TRIGGER IF EXISTS sla_clockevent_refuses_truncate ON sla_clockevent;"


class Migration(migrations.Migration):
    """Recorded warnings and breaches are history: TRUNCATE is refused (function from tickets)."""

    dependencies = [("sla", "0002_defaults"), ("tickets", "0011_history_refuses_truncate")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
