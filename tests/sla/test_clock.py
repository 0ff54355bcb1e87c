"""Tests of sla.clock: worked examples, plus property tests against a brute-force oracle.

The oracle applies the documented definition literally, one UTC minute at a time: it converts
the minute's start to local time with zoneinfo and checks the intervals and holidays. All
generated interval boundaries and starts are whole minutes, and so are the offsets of the zones
used (Lord Howe moves by 30 minutes, Kolkata is UTC+05:30), so business time is constant within
each minute and counting minutes is exact.
"""

import time as timer
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.clock import (
    Calendar,
    Holiday,
    WorkingInterval,
    add_business_time,
    business_seconds,
    is_business_time,
    next_business_instant,
    validate,
)

MINUTE = timedelta(minutes=1)
HOUR = 3600
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NO_WORKING_TIME = "The calendar has no working time: add working intervals or make it 24x7."


def office(zone: str = "Europe/Berlin", *holidays: Holiday) -> Calendar:
    """Monday to Friday, 09:00-17:00."""
    intervals = tuple(WorkingInterval(day, time(9), time(17)) for day in range(5))
    return Calendar(zone, intervals, holidays)


def at(zone: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=zone)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


# --- the oracle ------------------------------------------------------------------------------


def oracle_is_business(calendar: Calendar, instant: datetime) -> bool:
    """The definition, word for word."""
    if calendar.always_open:
        return True
    local = instant.astimezone(ZoneInfo(calendar.timezone))
    today, clock = local.date(), local.time()
    for holiday in calendar.holidays:
        if holiday.day == today:
            return False
        if holiday.yearly and (holiday.day.month, holiday.day.day) == (today.month, today.day):
            return False
    yesterday = (today.weekday() - 1) % 7
    for interval in calendar.intervals:
        if interval.end > interval.start:
            if interval.weekday == today.weekday() and interval.start <= clock < interval.end:
                return True
        else:
            if interval.weekday == today.weekday() and clock >= interval.start:
                return True
            if interval.weekday == yesterday and clock < interval.end:
                return True
    return False


def oracle_business_minutes(calendar: Calendar, start: datetime, minutes: int) -> list[datetime]:
    """Starts of the business minutes among the ``minutes`` minutes from ``start`` on."""
    return [start + i * MINUTE for i in range(minutes) if oracle_is_business(calendar, start + i * MINUTE)]


# --- strategies --------------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]

# The 2026 UTC offset changes of the DST zones (checked by test_transitions_are_where_expected).
TRANSITIONS = {
    "Europe/Berlin": [utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)],
    "America/New_York": [utc(2026, 3, 8, 7), utc(2026, 11, 1, 6)],
    "Australia/Lord_Howe": [utc(2026, 4, 4, 15), utc(2026, 10, 3, 15, 30)],  # 30 minutes back, then forward
}
# Starts are drawn shortly before these: the zone's own offset changes (any of them for zones
# without DST), and the end of February 2028 for the leap day.
ALL_TRANSITIONS = [change for changes in TRANSITIONS.values() for change in changes]
ANCHORS = {zone: [*TRANSITIONS.get(zone, ALL_TRANSITIONS), utc(2028, 2, 27, 12)] for zone in ZONES}
WEEK_MINUTES = 7 * 1440


def weekly_mask(interval: WorkingInterval) -> int:
    """The interval's minutes on the weekly cycle (Sunday night wraps into Monday) as a bit set."""
    start = interval.weekday * 1440 + interval.start.hour * 60 + interval.start.minute
    end_of_day = interval.end.hour * 60 + interval.end.minute
    length = end_of_day - (start % 1440)
    if length <= 0:
        length += 1440
    bits = ((1 << length) - 1) << start
    return (bits | (bits >> WEEK_MINUTES)) & ((1 << WEEK_MINUTES) - 1)


def minute_of_day(value: int) -> time:
    return time(value // 60, value % 60)


# Boundaries on the hour and half hour (those around 01:00-04:00 hit the DST changes) or anywhere.
boundaries = st.one_of(
    st.integers(0, 47).map(lambda half_hours: half_hours * 30),
    st.integers(0, 1439),
)


@st.composite
def intervals(draw: st.DrawFn) -> WorkingInterval:
    start = draw(boundaries)
    length = draw(st.one_of(st.integers(1, 1440), st.sampled_from([60, 180, 480, 720, 1440])))
    return WorkingInterval(draw(st.integers(0, 6)), minute_of_day(start), minute_of_day((start + length) % 1440))


@st.composite
def cases(draw: st.DrawFn, max_days: int = 21) -> tuple[Calendar, datetime, int]:
    """A non-overlapping calendar, a start near an offset change and a span in minutes."""
    zone = draw(st.sampled_from(ZONES))
    start = draw(st.sampled_from(ANCHORS[zone])) + draw(st.integers(-4 * 1440, 360)) * MINUTE
    kept: list[WorkingInterval] = []
    used = 0
    for candidate in draw(st.lists(intervals(), min_size=1, max_size=10)):
        mask = weekly_mask(candidate)
        if not mask & used:
            kept.append(candidate)
            used |= mask
    near = start.date()
    holidays = draw(
        st.lists(
            st.one_of(
                st.integers(-2, max_days + 1).map(lambda days: Holiday(near + timedelta(days=days))),
                # Recurring holidays stored in another (leap) year, so only the recurrence can hit.
                st.integers(-2, max_days + 1).map(
                    lambda days: Holiday((near + timedelta(days=days)).replace(year=2000), yearly=True)
                ),
                st.just(Holiday(date(2024, 2, 29), yearly=True)),
            ),
            max_size=4,
        )
    )
    # Whole days and minutes drawn apart, so that long spans are as likely as short ones.
    span = draw(st.integers(0, max_days)) * 1440 + draw(st.integers(0, 1439))
    return Calendar(zone, tuple(kept), tuple(holidays)), start, min(span, max_days * 1440)


# --- properties against the oracle -------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(case=cases(), pick=st.integers(0, 10**9))
def test_matches_the_oracle(case: tuple[Calendar, datetime, int], pick: int) -> None:
    calendar, start, minutes = case
    # The generator keeps intervals apart exactly as validate() defines overlapping.
    assert validate(calendar) == []
    business = oracle_business_minutes(calendar, start, minutes)
    end = start + minutes * MINUTE

    assert business_seconds(calendar, start, end) == 60 * len(business)

    assert add_business_time(calendar, start, 0) == start
    if business:
        # The k-th business minute: the target is reached at its end, and not a moment before.
        k = 1 + pick % len(business)
        due = add_business_time(calendar, start, 60 * k)
        assert due == business[k - 1] + MINUTE
        assert due.utcoffset() == timedelta(0)
        assert business_seconds(calendar, start, due) == 60 * k


@settings(max_examples=60, deadline=None)
@given(case=cases(max_days=3), probes=st.lists(st.integers(0, 3 * 1440), min_size=1, max_size=8))
def test_is_business_time_and_next_opening_match_the_oracle(
    case: tuple[Calendar, datetime, int], probes: list[int]
) -> None:
    calendar, start, _ = case
    for probe in probes:
        instant = start + probe * MINUTE
        expected = oracle_is_business(calendar, instant)
        assert is_business_time(calendar, instant) == expected
        opening = next_business_instant(calendar, instant)
        assert opening >= instant
        assert (opening == instant) == expected
        assert oracle_is_business(calendar, opening)
        # Nothing in between is business time (bounded walk: long gaps are checked partly).
        assert not any(oracle_is_business(calendar, t) for t in _minutes_between(instant, opening, limit=3 * 1440))


def _minutes_between(low: datetime, high: datetime, limit: int) -> list[datetime]:
    count = min(int((high - low) / MINUTE), limit)
    return [low + i * MINUTE for i in range(count)]


@settings(max_examples=150, deadline=None)
@given(
    case=cases(max_days=30),
    microseconds=st.integers(0, 59_999_999),
    seconds=st.one_of(st.integers(1, 40 * 86_400), st.floats(0.000001, 40 * 86_400.0).map(lambda s: round(s, 6))),
    split=st.floats(0, 1),
)
def test_round_trip_and_additivity_off_the_minute(
    case: tuple[Calendar, datetime, int], microseconds: int, seconds: float, split: float
) -> None:
    calendar, start, minutes = case
    start += timedelta(microseconds=microseconds)
    end = start + minutes * MINUTE
    middle = start + (end - start) * split
    whole = business_seconds(calendar, start, end)
    assert whole == pytest.approx(
        business_seconds(calendar, start, middle) + business_seconds(calendar, middle, end), abs=1e-6
    )
    due = add_business_time(calendar, start, seconds)
    assert business_seconds(calendar, start, due) == seconds
    assert business_seconds(calendar, start, due - timedelta(microseconds=1)) < seconds


def test_transitions_are_where_expected() -> None:
    for zone, changes in TRANSITIONS.items():
        for change in changes:
            before, after = (change - MINUTE).astimezone(ZoneInfo(zone)), change.astimezone(ZoneInfo(zone))
            assert before.utcoffset() != after.utcoffset()


# --- worked examples ---------------------------------------------------------------------------


def test_p2_target_from_friday_afternoon_lands_on_monday_afternoon() -> None:
    friday = at(BERLIN, 2026, 5, 8, 16)
    due = add_business_time(office(), friday, 8 * HOUR)
    assert due == at(BERLIN, 2026, 5, 11, 16)
    assert due.tzinfo is UTC


def test_p2_target_skips_a_monday_holiday() -> None:
    calendar = office("Europe/Berlin", Holiday(date(2026, 5, 11)))
    assert add_business_time(calendar, at(BERLIN, 2026, 5, 8, 16), 8 * HOUR) == at(BERLIN, 2026, 5, 12, 16)


def test_target_reached_at_closing_time_is_due_at_closing_time() -> None:
    assert add_business_time(office(), at(BERLIN, 2026, 5, 11, 9), 8 * HOUR) == at(BERLIN, 2026, 5, 11, 17)


def test_zero_target_is_due_at_once_even_outside_hours() -> None:
    sunday = at(BERLIN, 2026, 5, 10, 3)
    assert add_business_time(office(), sunday, 0) == sunday


def test_pause_crossing_closing_time_counts_only_business_time() -> None:
    calendar = office()
    assert business_seconds(calendar, at(BERLIN, 2026, 5, 11, 16, 30), at(BERLIN, 2026, 5, 11, 18)) == 30 * 60
    assert business_seconds(calendar, at(BERLIN, 2026, 5, 11, 16, 30), at(BERLIN, 2026, 5, 12, 9, 30)) == 60 * 60
    # Friday evening to Monday morning: the weekend does not count at all.
    assert business_seconds(calendar, at(BERLIN, 2026, 5, 8, 17), at(BERLIN, 2026, 5, 11, 9)) == 0
    assert business_seconds(calendar, at(BERLIN, 2026, 5, 12), at(BERLIN, 2026, 5, 11)) == 0


def test_overnight_shift() -> None:
    nights = Calendar("Europe/Berlin", tuple(WorkingInterval(day, time(22), time(6)) for day in range(5)))
    monday_evening = at(BERLIN, 2026, 5, 11, 21)
    assert add_business_time(nights, monday_evening, 4 * HOUR) == at(BERLIN, 2026, 5, 12, 2)
    assert add_business_time(nights, monday_evening, 8 * HOUR) == at(BERLIN, 2026, 5, 12, 6)
    assert add_business_time(nights, monday_evening, 9 * HOUR) == at(BERLIN, 2026, 5, 12, 23)
    # Friday's shift runs into Saturday morning; then nothing until Monday 22:00.
    assert is_business_time(nights, at(BERLIN, 2026, 5, 16, 5, 59))
    assert not is_business_time(nights, at(BERLIN, 2026, 5, 16, 6))
    assert next_business_instant(nights, at(BERLIN, 2026, 5, 16, 6)) == at(BERLIN, 2026, 5, 18, 22)


def test_holiday_removes_the_tail_of_the_night_before_but_not_its_evening() -> None:
    nights = Calendar(
        "Europe/Berlin",
        tuple(WorkingInterval(day, time(22), time(6)) for day in range(5)),
        (Holiday(date(2026, 5, 13)),),  # a Wednesday
    )
    tuesday_evening, wednesday, thursday = at(BERLIN, 2026, 5, 12, 22), at(BERLIN, 2026, 5, 13), at(BERLIN, 2026, 5, 14)
    assert business_seconds(nights, tuesday_evening, wednesday) == 2 * HOUR
    assert business_seconds(nights, wednesday, thursday) == 0  # Tuesday's tail and Wednesday's evening
    assert business_seconds(nights, thursday, at(BERLIN, 2026, 5, 14, 12)) == 6 * HOUR  # Wednesday's tail
    assert not is_business_time(nights, at(BERLIN, 2026, 5, 13, 1))
    assert next_business_instant(nights, at(BERLIN, 2026, 5, 12, 23, 59)) == at(BERLIN, 2026, 5, 12, 23, 59)
    assert next_business_instant(nights, wednesday) == thursday


@pytest.mark.parametrize(
    ("zone", "spring", "fall", "two_hours_after_one"),
    [
        # Berlin repeats 02:00-03:00: two real hours after 01:00 is the second 02:00 (fold 1).
        (BERLIN, date(2026, 3, 29), date(2026, 10, 25), (2, 1)),
        # New York repeats 01:00-02:00: two real hours after the first 01:00 is the only 02:00.
        (NEW_YORK, date(2026, 3, 8), date(2026, 11, 1), (2, 0)),
    ],
)
def test_wall_clock_interval_on_dst_days_lasts_real_time(
    zone: ZoneInfo, spring: date, fall: date, two_hours_after_one: tuple[int, int]
) -> None:
    sundays = Calendar(zone.key, (WorkingInterval(6, time(1), time(4)),))
    for day, hours in ((spring, 2), (fall, 4), (spring - timedelta(days=7), 3)):
        midnight = at(zone, day.year, day.month, day.day)
        assert business_seconds(sundays, midnight, midnight + timedelta(days=1)) == hours * HOUR
    # Adding time across the change works in real elapsed time.
    spring_start = at(zone, spring.year, spring.month, spring.day, 1)
    assert add_business_time(sundays, spring_start, 2 * HOUR) == at(zone, spring.year, spring.month, spring.day, 4)
    fall_start = at(zone, fall.year, fall.month, fall.day, 1)
    due = add_business_time(sundays, fall_start, 2 * HOUR)
    # Compared in UTC: Python never calls a repeated wall-clock time equal to another zone's instant.
    assert due == fall_start.astimezone(UTC) + timedelta(hours=2)
    assert (due.astimezone(zone).hour, due.astimezone(zone).fold) == two_hours_after_one
    assert add_business_time(sundays, fall_start, 4 * HOUR) == at(zone, fall.year, fall.month, fall.day, 4)


def test_interval_starting_in_the_skipped_hour() -> None:
    # 02:30-05:00 on the spring-forward Sunday: 02:30 never happens, work starts at 03:00 CEST.
    calendar = Calendar("Europe/Berlin", (WorkingInterval(6, time(2, 30), time(5)),))
    sunday = at(BERLIN, 2026, 3, 29)
    assert business_seconds(calendar, sunday, sunday + timedelta(days=1)) == 2 * HOUR
    assert next_business_instant(calendar, sunday) == utc(2026, 3, 29, 1)


def test_yearly_holiday() -> None:
    calendar = office("Europe/Berlin", Holiday(date(2000, 12, 25), yearly=True))
    christmas_eve = at(BERLIN, 2026, 12, 24, 16)  # a Thursday
    assert add_business_time(calendar, christmas_eve, 2 * HOUR) == at(BERLIN, 2026, 12, 28, 10)
    assert not is_business_time(calendar, at(BERLIN, 2031, 12, 25, 10))  # a Thursday, years later
    assert is_business_time(calendar, at(BERLIN, 2031, 12, 24, 10))


def test_yearly_leap_day_recurs_only_in_leap_years() -> None:
    calendar = Calendar("UTC", (WorkingInterval(0, time(0), time(0)), WorkingInterval(1, time(0), time(0))), ())
    leap_day = Calendar("UTC", calendar.intervals, (Holiday(date(2024, 2, 29), yearly=True),))
    assert not is_business_time(leap_day, utc(2028, 2, 29, 12))  # a Tuesday in a leap year
    assert is_business_time(leap_day, utc(2028, 2, 28, 12))
    assert business_seconds(leap_day, utc(2030, 2, 25), utc(2030, 3, 4)) == 2 * 24 * HOUR


def test_twenty_four_seven_is_wall_clock_elapsed_time() -> None:
    calendar = Calendar.twenty_four_seven("Europe/Berlin")
    assert calendar.always_open and validate(calendar) == []
    start, end = at(BERLIN, 2026, 3, 28, 12), at(BERLIN, 2026, 10, 26, 12)  # across both DST changes
    assert business_seconds(calendar, start, end) == (end - start).total_seconds()
    assert add_business_time(calendar, start, 1234.5) == start + timedelta(seconds=1234.5)
    assert next_business_instant(calendar, start) == start
    assert is_business_time(Calendar.twenty_four_seven(), utc(2026, 12, 25))
    with_holiday = Calendar("UTC", holidays=(Holiday(date(2026, 12, 25)),), always_open=True)
    assert is_business_time(with_holiday, utc(2026, 12, 25, 12))


def test_validate_accepts_a_valid_calendar() -> None:
    touching = (WorkingInterval(0, time(9), time(12)), WorkingInterval(0, time(12), time(17)))
    assert validate(office()) == []
    assert validate(Calendar("Asia/Kolkata", touching)) == []
    friday_night = (WorkingInterval(4, time(22), time(6)), WorkingInterval(5, time(6), time(9)))
    assert validate(Calendar("UTC", friday_night)) == []


def test_validate_reports_overlaps() -> None:
    same_day = Calendar("UTC", (WorkingInterval(0, time(9), time(13)), WorkingInterval(0, time(12), time(17))))
    assert validate(same_day) == ["Working interval Monday 09:00-13:00 overlaps Monday 12:00-17:00."]
    into_morning = Calendar("UTC", (WorkingInterval(1, time(22), time(6)), WorkingInterval(2, time(5), time(9))))
    assert validate(into_morning) == ["Working interval Tuesday 22:00-06:00 overlaps Wednesday 05:00-09:00."]
    sunday_night = Calendar("UTC", (WorkingInterval(0, time(5), time(9)), WorkingInterval(6, time(22), time(6))))
    assert len(validate(sunday_night)) == 1
    whole_days = Calendar("UTC", (WorkingInterval(3, time(0), time(0)), WorkingInterval(3, time(8), time(9))))
    assert "overlaps" in validate(whole_days)[0]


def test_validate_reports_zone_weekday_and_empty_calendar() -> None:
    assert validate(Calendar("Mars/Olympus_Mons", office().intervals)) == ["Unknown time zone 'Mars/Olympus_Mons'."]
    bad_weekday = Calendar("UTC", (WorkingInterval(7, time(9), time(17)),))
    assert validate(bad_weekday) == ["Working interval #1 has weekday 7; use 0 (Monday) to 6 (Sunday)."]
    assert validate(Calendar("UTC")) == [NO_WORKING_TIME]
    assert len(validate(Calendar("", ()))) == 2


def test_calendar_with_unknown_zone_cannot_be_evaluated() -> None:
    with pytest.raises(ValueError, match="Unknown time zone"):
        business_seconds(Calendar("Nowhere/Town", office().intervals), utc(2026, 1, 1), utc(2026, 1, 2))


@pytest.mark.parametrize(
    "call",
    [
        lambda c, naive: is_business_time(c, naive),
        lambda c, naive: business_seconds(c, naive, utc(2026, 1, 1)),
        lambda c, naive: business_seconds(c, utc(2026, 1, 1), naive),
        lambda c, naive: add_business_time(c, naive, 60),
        lambda c, naive: add_business_time(c, naive, 0),
        lambda c, naive: next_business_instant(c, naive),
    ],
)
def test_naive_datetimes_are_refused(call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(office(), datetime(2026, 1, 1, 12))


def test_calendar_without_working_time_never_reaches_a_target() -> None:
    empty = Calendar("UTC")
    with pytest.raises(ValueError, match="no working time"):
        add_business_time(empty, utc(2026, 1, 1), 60)
    with pytest.raises(ValueError, match="no working time"):
        next_business_instant(empty, utc(2026, 1, 1))
    assert business_seconds(empty, utc(2026, 1, 1), utc(2027, 1, 1)) == 0
    assert add_business_time(empty, utc(2026, 1, 1), 0) == utc(2026, 1, 1)
    with pytest.raises(ValueError, match="seconds"):
        add_business_time(office(), utc(2026, 1, 1), -1)


def test_long_spans_are_fast() -> None:
    holidays = tuple(Holiday(date(2026, 1, 1) + timedelta(days=days)) for days in range(0, 365, 17))
    calendar = office("America/New_York", Holiday(date(2000, 12, 25), yearly=True), *holidays)
    start = at(NEW_YORK, 2026, 1, 5, 10)
    began = timer.perf_counter()
    for _ in range(20):
        business_seconds(calendar, start, start + timedelta(days=365))
        due = add_business_time(calendar, start, 10 * 8 * HOUR)
        add_business_time(calendar, start, 200 * 8 * HOUR)
    assert (timer.perf_counter() - began) / 20 < 0.02
    assert due == at(NEW_YORK, 2026, 1, 19, 10)  # the holiday on Sunday, January 18, changes nothing
