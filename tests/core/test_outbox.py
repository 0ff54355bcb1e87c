import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from helpdesk.core.models import Heartbeat, OutboxMessage
from helpdesk.core.services import backoff_seconds, current_outbox_id, enqueue, outbox_consumer, relay_outbox
from helpdesk.core.tasks import outbox_probe_task

PROBE = "helpdesk.core.tasks.outbox_probe_task"


def test_enqueue_is_part_of_the_callers_transaction(transactional_db):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(PROBE, kwargs={"note": "lost"})
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()

    with transaction.atomic():
        enqueue(PROBE, kwargs={"note": "kept"})
    assert OutboxMessage.objects.get().kwargs == {"note": "kept"}


def test_enqueue_refuses_what_json_cannot_carry(db):
    with pytest.raises(TypeError):
        enqueue(PROBE, kwargs={"when": timezone.now()})
    assert not OutboxMessage.objects.exists()


def test_dedupe_key_keeps_one_message(db):
    first = enqueue(PROBE, kwargs={"note": "a"}, dedupe_key="probe:1")
    second = enqueue(PROBE, kwargs={"note": "b"}, dedupe_key="probe:1")
    assert first is not None
    assert second is None
    assert OutboxMessage.objects.count() == 1


def test_relay_hands_due_rows_over_once(db):
    due = enqueue(PROBE, kwargs={"note": "due"})
    later = enqueue(PROBE, kwargs={"note": "later"})
    now = timezone.now()
    OutboxMessage.objects.filter(pk=later.pk).update(available_at=now + timedelta(minutes=5))
    published = []

    assert relay_outbox(now=now, publish=published.append) == 1
    assert [m.pk for m in published] == [due.pk]
    due.refresh_from_db()
    assert due.status == OutboxMessage.Status.RELAYED
    assert due.relayed_at == now
    # Running again changes nothing: the relayed row is not due again yet.
    assert relay_outbox(now=now, publish=published.append) == 0
    assert len(published) == 1


def test_relay_backs_off_when_the_broker_is_down(db, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = enqueue(PROBE, kwargs={"note": "x"})
    now = timezone.now()

    def broker_down(_message):
        raise ConnectionRefusedError("redis is down")

    assert relay_outbox(now=now, publish=broker_down) == 0
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert message.available_at == now + timedelta(seconds=backoff_seconds(1))
    assert "redis is down" in message.last_error

    # Not retried before its back-off ends, retried after.
    assert relay_outbox(now=now + timedelta(seconds=1), publish=broker_down) == 0
    message.refresh_from_db()
    assert message.attempts == 1
    relay_outbox(now=message.available_at, publish=broker_down)
    relay_outbox(now=message.available_at + timedelta(hours=2), publish=broker_down)
    message.refresh_from_db()
    assert message.attempts == 3
    assert message.status == OutboxMessage.Status.FAILED


def test_relay_redelivers_a_message_never_finished(db, settings):
    settings.OUTBOX_REDELIVER_AFTER_SECONDS = 60
    message = enqueue(PROBE, kwargs={})
    now = timezone.now()
    relay_outbox(now=now, publish=lambda m: None)
    published = []
    relay_outbox(now=now + timedelta(seconds=30), publish=published.append)
    assert published == []
    relay_outbox(now=now + timedelta(seconds=61), publish=published.append)
    assert [m.pk for m in published] == [message.pk]


def test_backoff_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff_seconds(50) == 3600


def test_consumer_acts_once_per_message(db):
    message = enqueue(PROBE, kwargs={"note": "hi"})
    assert outbox_probe_task(note="hi", outbox_id=message.pk) == "hi"
    first_beat = Heartbeat.objects.get(name="outbox-probe").at
    # A second delivery of the same message does nothing.
    assert outbox_probe_task(note="hi", outbox_id=message.pk) is None
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DONE
    assert message.done_at is not None
    assert Heartbeat.objects.get(name="outbox-probe").at == first_beat


def test_consumer_failure_rolls_back_and_goes_back_to_pending(db):
    from helpdesk.core.services import outbox_consumer

    @outbox_consumer
    def failing(note):
        Heartbeat.objects.create(name="half-written", at=timezone.now())
        raise ValueError("smtp said no")

    message = enqueue("whatever", kwargs={"note": "x"})
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.RELAYED, attempts=2)
    assert failing(note="x", outbox_id=message.pk) is None
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert "smtp said no" in message.last_error
    assert message.available_at > timezone.now() + timedelta(seconds=backoff_seconds(2) - 2)
    assert not Heartbeat.objects.filter(name="half-written").exists()


def test_two_relays_at_once_never_take_the_same_row(transactional_db):
    for n in range(40):
        enqueue(PROBE, kwargs={"n": n})
    seen: list[int] = []
    lock = threading.Lock()
    both_inside = threading.Barrier(2, timeout=10)
    local = threading.local()

    def publish(message):
        with lock:
            seen.append(message.pk)
        # Each relay waits, holding its claimed rows, until the other one has claimed its own.
        if not getattr(local, "waited", False):
            local.waited = True
            both_inside.wait()

    def run():
        from django.db import connection

        try:
            relay_outbox(batch=20, publish=publish)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(seen) == len(set(seen)), "a row was relayed twice"
    assert len(seen) == 40
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.RELAYED).count() == 40


def test_a_consumer_knows_which_message_it_handles(db):
    seen = []

    @outbox_consumer
    def consumer():
        seen.append(current_outbox_id())

    message = enqueue(PROBE, kwargs={})
    consumer(outbox_id=message.pk)
    consumer()  # called directly, outside the outbox
    assert seen == [message.pk, None]
    assert current_outbox_id() is None
