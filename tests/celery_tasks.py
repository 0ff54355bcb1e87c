"""Tasks loaded only into the test worker (``--include tests.celery_tasks``)."""

import os
import time

from celery import shared_task

from helpdesk.core.models import Heartbeat
from helpdesk.core.services import record_heartbeat


@shared_task(name="tests.slow_task")
def slow_task(key: str, seconds: float) -> str:
    """Records each start (with the pool process id), sleeps, then records completion."""
    attempt = Heartbeat.objects.filter(name__startswith=f"{key}-start-").count() + 1
    record_heartbeat(f"{key}-start-{attempt}-pid-{os.getpid()}")
    time.sleep(seconds)
    record_heartbeat(f"{key}-done")
    return key
