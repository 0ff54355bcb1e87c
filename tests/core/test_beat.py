import pytest
from django_celery_beat.models import PeriodicTask

from helpdesk.beat import AnotherBeatIsRunning, SingleBeatScheduler, try_beat_lock
from helpdesk.celery import app


@pytest.mark.django_db(transaction=True)
def test_scheduler_writes_every_beat_entry_to_the_database():
    scheduler = SingleBeatScheduler(app=app, lazy=False)
    try:
        rows = dict(PeriodicTask.objects.values_list("name", "task"))
    finally:
        scheduler.close()
    for name, entry in app.conf.beat_schedule.items():
        assert rows[name] == entry["task"]


@pytest.mark.django_db(transaction=True)
def test_only_one_beat_may_run():
    held = try_beat_lock()
    assert held is not None
    try:
        with pytest.raises(AnotherBeatIsRunning):
            SingleBeatScheduler(app=app, lazy=False)
    finally:
        held.close()
    # Once the first beat is gone, another may start.
    scheduler = SingleBeatScheduler(app=app, lazy=False)
    scheduler.close()
