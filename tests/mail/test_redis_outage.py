"""Redis really stopped while tickets are created: the mails go out once it is back, none lost, none twice.

The test runs its own Redis (the embedded redis-server, in a temp dir) and its own Celery worker
on it, so stopping that Redis disturbs no other test. The outbox relay is the real one; only its
publish is pointed at this Redis (the test process' Celery app talks to the session's Redis).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.celery import app
from helpdesk.core.models import OutboxMessage
from helpdesk.core.services import relay_outbox
from helpdesk.embedded import start_redis, stop_redis
from tests import factories
from tests.conftest import CeleryProcess, wait_until
from tests.mailfiles import mails_in
from tickets import services
from tickets.models import OutboundMail

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

WORKER_ARGS = (
    *("worker", "--loglevel", "INFO", "--concurrency", "1"),
    *("--without-heartbeat", "--without-gossip", "--without-mingle"),
)


def publisher(url: str):
    """The relay's publish, to the Redis at ``url``."""

    def publish(message: OutboxMessage) -> None:
        with app.connection_for_write(url) as connection:
            app.send_task(
                message.task,
                kwargs={**message.kwargs, "outbox_id": message.pk},
                connection=connection,
                retry=False,
            )

    return publish


@pytest.fixture
def own_redis(tmp_path):
    root = tmp_path / "redis-root"
    url = start_redis(root).url
    yield root, url
    stop_redis(root)


@pytest.fixture
def own_worker(own_redis, tmp_path):
    _, url = own_redis
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = CeleryProcess(
        [*WORKER_ARGS],
        tmp_path / "worker.log",
        extra_env={
            "REDIS_URL": url,
            "TEST_EMAIL_DIR": str(mail_dir),
            "HELPDESK_MAIL_ADDRESS": "helpdesk@helpdesk.example",
            "CELERY_TASK_LOG_LEVEL": "INFO",  # "succeeded in" lines tell the test what the worker ran
        },
    )
    worker.mail_dir = mail_dir
    worker.wait_for_log("ready.")
    yield worker
    worker.stop()


def test_mails_queued_while_redis_is_down_go_out_once_it_is_back(own_redis, own_worker):
    root, url = own_redis
    publish = publisher(url)
    agent = factories.make_agent(1, email="agent@helpdesk.example")
    requesters = [factories.make_requester(email=f"user{i}@customer.example") for i in range(3)]

    assert stop_redis(root)
    tickets = [factories.make_ticket(r, subject=f"Outage ticket {i}") for i, r in enumerate(requesters)]
    services.add_reply(ticket_id=tickets[0].pk, by=agent, body="We are on it")

    assert relay_outbox(publish=publish) == 0  # Redis is down: nothing handed over, nothing lost
    waiting = OutboxMessage.objects.filter(task="tickets.tasks.notify_task")
    assert waiting.count() == 4
    assert all(m.status == OutboxMessage.Status.PENDING and m.attempts == 1 and m.last_error for m in waiting)

    start_redis(root)  # back, on the same socket; the worker reconnects by itself
    later = timezone.now() + timedelta(minutes=5)  # past the relay's back-off
    assert relay_outbox(now=later, publish=publish) == 4

    def all_done():
        return not waiting.exclude(status=OutboxMessage.Status.DONE).exists()

    wait_until(all_done, timeout=90, message="every notification delivered by the worker")

    wait_until(lambda: own_worker.log().count("succeeded in") >= 4, timeout=30, message="worker logged its tasks")
    assert len(mails_in(own_worker.mail_dir)) == 4

    # A late duplicate delivery (as after a worker crash) finds the messages done: nothing is sent again.
    for message in waiting.all():
        publish(message)
    wait_until(lambda: own_worker.log().count("succeeded in") >= 8, timeout=60, message="duplicates consumed")
    mails = mails_in(own_worker.mail_dir)
    received = sorted(str(m["To"]) for m in mails if "We are on it" not in m.get_body(("plain",)).get_content())
    assert received == [f"user{i}@customer.example" for i in range(3)]
    replies = [m for m in mails if "We are on it" in m.get_body(("plain",)).get_content()]
    assert [str(m["To"]) for m in replies] == ["user0@customer.example"]
    assert len({m["Message-ID"] for m in mails}) == len(mails) == 4
    assert OutboundMail.objects.filter(status=OutboundMail.Status.SENT).count() == 4
