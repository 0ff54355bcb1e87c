from django.db import migrations

# Replies written before every REPLIED event carried its "side": the requester's own replies
# were the requester's side, everything else the agents'. This is the rule the SLA engine and
# the KPIs applied when the key was missing; with it stored on every row, they read only the key.
# The history refuses UPDATE (0004), so the trigger is set aside for this one statement.
BACKFILL = """
ALTER TABLE tickets_ticketevent DISABLE TRIGGER tickets_event_append_only;
UPDATE tickets_ticketevent e
   SET data = e.data || jsonb_build_object(
       'side', CASE WHEN e.actor_id = t.requester_id THEN 'requester' ELSE 'agent' END)
  FROM tickets_ticket t
 WHERE t.id = e.ticket_id AND e.kind = 'replied' AND NOT (e.data ? 'side');
ALTER TABLE tickets_ticketevent ENABLE TRIGGER tickets_event_append_only;
"""


class Migration(migrations.Migration):
    """Every public reply in the history says which side wrote it."""

    dependencies = [("tickets", "0011_history_refuses_truncate")]

    operations = [migrations.RunSQL(BACKFILL, migrations.RunSQL.noop)]
