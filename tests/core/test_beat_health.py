"""`manage.py check_heartbeat`, the beat container's health check (docker-compose.yml)."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from helpdesk.core.services import record_heartbeat

pytestmark = pytest.mark.django_db


def test_healthy_while_beat_beats(capsys):
    record_heartbeat("beat", at=timezone.now() - timedelta(seconds=20))
    call_command("check_heartbeat", "beat")
    assert "beat heartbeat 20s ago" in capsys.readouterr().out


def test_unhealthy_when_beat_fell_silent(settings):
    settings.HEARTBEAT_STALE_SECONDS = 180
    record_heartbeat("beat", at=timezone.now() - timedelta(seconds=181))
    with pytest.raises(CommandError, match="181s ago"):
        call_command("check_heartbeat", "beat")
    call_command("check_heartbeat", "beat", "--max-age", "300")  # an explicit bound wins


def test_unhealthy_before_the_first_heartbeat():
    record_heartbeat("worker")
    with pytest.raises(CommandError, match="no beat heartbeat"):
        call_command("check_heartbeat", "beat")
