"""KPI days are the desk's days, whichever time zone the person looking has chosen."""

from datetime import UTC, datetime

import time_machine
from django.utils import timezone

from reports.kpis.definitions import desk_date, make_period, today


def test_a_persons_own_zone_does_not_move_the_desks_day():
    # 2026-12-03 20:00 UTC is already 4 December in Kiritimati (UTC+14) and still 3 December here.
    with time_machine.travel(datetime(2026, 12, 3, 20, 0, tzinfo=UTC), tick=False):
        desk_today = timezone.localdate(timezone.now(), timezone.get_default_timezone())
        with timezone.override("Pacific/Kiritimati"):
            assert timezone.localdate().day == 4  # what the person's clock says
            assert today() == desk_today
            assert desk_date(datetime(2026, 12, 3, 20, 0, tzinfo=UTC)) == desk_today
            assert make_period("7d").last == desk_today
