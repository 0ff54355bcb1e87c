from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from helpdesk.core.models import Heartbeat


class Command(BaseCommand):
    help = (
        "Exit 0 when background process NAME (beat, worker) recorded a heartbeat recently, else 1: "
        "the health check of the beat container."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="heartbeat name, e.g. beat")
        parser.add_argument(
            "--max-age",
            type=float,
            default=None,
            help="seconds of silence allowed (default HEARTBEAT_STALE_SECONDS, as /healthz)",
        )

    def handle(self, *args, name, max_age, **options):
        max_age = settings.HEARTBEAT_STALE_SECONDS if max_age is None else max_age
        last = Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
        if last is None:
            raise CommandError(f"no {name} heartbeat recorded yet")
        age = (timezone.now() - last).total_seconds()
        if age > max_age:
            raise CommandError(f"last {name} heartbeat {age:.0f}s ago (more than {max_age:g}s)")
        self.stdout.write(f"{name} heartbeat {age:.0f}s ago")
