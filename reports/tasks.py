"""Reports tasks. Thin: parse, call one service."""

from celery import shared_task

from helpdesk.core.services import outbox_consumer

from . import rollup, surveys


@shared_task(name="reports.tasks.send_survey_task")
@outbox_consumer
def send_survey_task(survey_id: int) -> int:
    """Mail one satisfaction survey queued through the outbox by a resolution."""
    return surveys.send_survey_mail(survey_id)


@shared_task(name="reports.tasks.refresh_rollup_task")
def refresh_rollup_task() -> dict:
    """Build yesterday once the day closed and rebuild the closed days that changed (idempotent)."""
    return rollup.refresh_rollup()
