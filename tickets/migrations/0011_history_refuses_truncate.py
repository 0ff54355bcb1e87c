from django.db import migrations

# TRUNCATE fires no row triggers, so the append-only trigger of 0004 does not see it. A
# statement trigger refuses it too. The one way through is the setting
# `helpdesk.allow_truncate = on` for a session (or a database): the test suite's throwaway
# database sets it so Django can empty the tables between tests; production never does.
FORWARD = """
CREATE OR REPLACE FUNCTION helpdesk_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('helpdesk.allow_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'history is append-only: TRUNCATE on % refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tickets_event_refuses_truncate
    BEFORE TRUNCATE ON tickets_ticketevent
    FOR EACH STATEMENT EXECUTE FUNCTION helpdesk_refuse_truncate();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tickets_event_refuses_truncate ON tickets_ticketevent;
DROP FUNCTION IF EXISTS helpdesk_refuse_truncate();
"""


class Migration(migrations.Migration):
    """The ticket history cannot be emptied wholesale either: TRUNCATE is refused."""

    dependencies = [("tickets", "0010_ticket_version")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
