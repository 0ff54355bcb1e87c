from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION tickets_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ticket history is append-only: % on tickets_ticketevent refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tickets_event_append_only
    BEFORE UPDATE OR DELETE ON tickets_ticketevent
    FOR EACH ROW EXECUTE FUNCTION tickets_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tickets_event_append_only ON tickets_ticketevent;
DROP FUNCTION IF EXISTS tickets_event_append_only();
"""


class Migration(migrations.Migration):
    """The history cannot be edited by anyone: the database itself refuses UPDATE and DELETE."""

    dependencies = [("tickets", "0003_tickets")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
