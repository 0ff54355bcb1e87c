import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import enqueue
from helpdesk.core.tasks import ping_task


class Command(BaseCommand):
    help = "Check that a Celery worker answers through Redis and that the outbox relay delivers."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args, timeout, **options):
        self.stdout.write("Sending ping_task through Redis...")
        try:
            reply = ping_task.apply_async(kwargs={"value": "check"}).get(timeout=timeout)
        except Exception as exc:
            raise CommandError(f"no answer from a worker: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"worker answered: {reply}"))
        with transaction.atomic():
            message = enqueue("helpdesk.core.tasks.outbox_probe_task", kwargs={"note": "check"})
        self.stdout.write(f"Outbox message #{message.pk} written; waiting for beat to relay it...")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.status == OutboxMessage.Status.DONE:
                self.stdout.write(self.style.SUCCESS("outbox message delivered and done"))
                return
            time.sleep(0.5)
        raise CommandError(f"outbox message still {message.status} after {timeout:.0f}s (is beat running?)")
