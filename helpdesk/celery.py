"""The Celery app and the one beat schedule of the project.

Beat runs with django-celery-beat's database scheduler (wrapped by
``helpdesk.beat.SingleBeatScheduler``), so these entries are copied into PostgreSQL at
start-up and can be seen and paused in the admin.
"""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings.local")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Every 5 s: hand outbox rows written by web requests to Celery. Five seconds keeps
    # e-mail and SLA actions prompt while costing one indexed query when there is nothing to do.
    "relay-outbox": {
        "task": "helpdesk.core.tasks.relay_outbox_task",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    },
    # Every 10 min: close resolved tickets whose reopen window (days) has ended; minutes of
    # lateness do not matter to anyone and the query is one indexed scan.
    "close-expired-resolved": {
        "task": "tickets.tasks.close_expired_resolved_task",
        "schedule": 600.0,
        "options": {"expires": 600.0},
    },
    # Every minute: record SLA warnings and breaches (the smallest target is 15 minutes, so a
    # minute of lateness is 1 %); the sweep is a few indexed statements when nothing is due.
    "sla-sweep": {
        "task": "sla.tasks.sweep_task",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Every 5 min: build the KPI rollup of a day that just closed and rebuild closed days that
    # changed. Figures stay exact without it (unbuilt or changed days are read live); it only
    # keeps dashboards on the fast path, and a run with nothing to do is two indexed queries.
    "kpi-rollup": {
        "task": "reports.tasks.refresh_rollup_task",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    # Every minute: fetch new mail from the helpdesk's IMAP mailbox (a no-op while
    # HELPDESK_IMAP_HOST is empty). A minute is prompt for e-mail, and an idle poll is one login.
    "poll-imap": {
        "task": "tickets.tasks.poll_imap_task",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Every 30 s: proves to /healthz that beat schedules and a worker runs.
    "heartbeat": {
        "task": "helpdesk.core.tasks.heartbeat_task",
        "schedule": 30.0,
        "options": {"expires": 30.0},
    },
}


@worker_ready.connect
def _worker_ready_heartbeat(**kwargs):
    """Report the worker alive as soon as it starts, not only at the first scheduled heartbeat."""
    from helpdesk.core.services import record_heartbeat

    record_heartbeat("worker")
