"""Business-time arithmetic for SLA clocks: pure functions, no Django, no database.

A :class:`Calendar` describes when the clock runs: a time zone, working intervals per weekday
(several a day, overnight shifts allowed), dated holidays (optionally recurring every year) or
the built-in 24x7 calendar. The SLA engine stores the absolute due time of a running clock,
computed here with :func:`add_business_time`, and measures paused or elapsed business time
with :func:`business_seconds`.

Semantics
---------
* An instant is business time iff its LOCAL wall-clock date and time in the calendar's zone
  falls in ``[start, end)`` of an interval of that local weekday, or in the after-midnight
  part ``[00:00, end)`` of an overnight interval (``end <= start``) that started on the
  previous local day; and the local date is not a holiday. ``00:00-00:00`` is therefore the
  whole day, and ``18:00-00:00`` runs until midnight with no tail.
* A holiday removes all working time whose LOCAL DATE is that day: the after-midnight tail of
  a shift that started the evening before is removed, the evening part of a shift starting on
  the day before the holiday is kept. Whether an instant is business time depends only on its
  local wall-clock reading, never on the shift it "belongs" to.
* A yearly holiday recurs on its month/day in every year (its stored year does not matter);
  a yearly February 29 exists only in leap years.
* Intervals are wall-clock times, while all durations are real elapsed time. On a
  spring-forward day the skipped wall-clock hour simply never happens (01:00-04:00 in
  Europe/Berlin lasts 2 real hours); on a fall-back day the repeated wall-clock hour happens
  twice and counts twice (01:00-04:00 lasts 4 real hours).
* A 24x7 calendar (``always_open``) makes every instant business time; its holidays and
  intervals are ignored.
* Overlapping intervals are reported by :func:`validate`; the arithmetic tolerates them and
  uses their union (an instant is business time if ANY interval covers it).
* Every datetime argument must be timezone-aware (naive ones raise ``ValueError``); every
  returned datetime is aware and in UTC. Durations are exact to the microsecond.

How it stays fast
-----------------
Instants are integers of microseconds since 1970-01-01 UTC; a local wall-clock reading is the
same kind of integer on the naive local time line (``wall = instant + utc_offset``). The UTC
offset is constant between two zone transitions, so the time line is cut into such segments
(see :func:`_segments`); inside one segment the business time of a span is the business time
of the corresponding wall-clock span, which is computed a day or a whole week at a time, with
holidays subtracted, never minute by minute.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_SECOND = 1_000_000  # microseconds
_DAY = 86_400 * _SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_MICROSECOND = timedelta(microseconds=1)

# Supported instants; the margin of a year at both ends keeps wall-clock conversions (which
# can be a day away from UTC) inside what ``datetime`` can represent.
_MIN_YEAR = 2
_MAX_YEAR = 9998

# Offset changes are found by sampling the offset at this step and bisecting where it changed.
# That is exact as long as no two offset changes are closer than the step: in the whole tz
# database (2026) the closest pair is almost 4 days apart (Africa/Freetown, 1939).
_PROBE = 12 * 3600 * _SECOND

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WorkingInterval:
    """Working time starting on ``weekday`` (0 = Monday ... 6 = Sunday) at ``start``.

    ``end <= start`` is an overnight shift ending on the next day at ``end``; in particular
    ``00:00-00:00`` is the whole day. Times are local wall-clock times of the calendar's zone.
    """

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Holiday:
    """A day without working time; ``yearly`` holidays recur on the same month/day each year."""

    day: date
    yearly: bool = False


@dataclass(frozen=True)
class Calendar:
    """When SLA clocks run. Immutable and hashable, so compiled forms can be cached per calendar."""

    timezone: str
    intervals: tuple[WorkingInterval, ...] = ()
    holidays: tuple[Holiday, ...] = ()
    always_open: bool = False

    def __post_init__(self) -> None:
        # Accept any iterable (a list from a form or a query) but store tuples: the calendar
        # must stay hashable because compiled calendars are cached by value.
        object.__setattr__(self, "intervals", tuple(self.intervals))
        object.__setattr__(self, "holidays", tuple(self.holidays))

    @classmethod
    def twenty_four_seven(cls, timezone: str = "UTC") -> Calendar:
        """The 24x7 calendar: every instant is business time, holidays do not apply."""
        return cls(timezone=timezone, always_open=True)


# --- validation -----------------------------------------------------------------------------


def _load_zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError for malformed keys (absolute paths, ".."), OSError for directories.
        return None


def _describe_time(value: time) -> str:
    if value.second or value.microsecond:
        return value.isoformat()
    return value.strftime("%H:%M")


def _describe(interval: WorkingInterval) -> str:
    return f"{WEEKDAY_NAMES[interval.weekday]} {_describe_time(interval.start)}-{_describe_time(interval.end)}"


def _structural_problems(calendar: Calendar) -> list[str]:
    """Problems that make a calendar impossible to evaluate at all."""
    return _zone_problems(calendar) + _interval_problems(calendar) + _holiday_problems(calendar)


def _zone_problems(calendar: Calendar) -> list[str]:
    if _load_zone(calendar.timezone) is None:
        return [f"Unknown time zone {calendar.timezone!r}."]
    return []


def _interval_problems(calendar: Calendar) -> list[str]:
    problems = []
    for position, interval in enumerate(calendar.intervals, start=1):
        if not isinstance(interval, WorkingInterval):
            problems.append(f"Working interval #{position} is not a WorkingInterval.")
            continue
        weekday = interval.weekday
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            problems.append(f"Working interval #{position} has weekday {weekday!r}; use 0 (Monday) to 6 (Sunday).")
        for label, value in (("start", interval.start), ("end", interval.end)):
            if not isinstance(value, time) or value.tzinfo is not None:
                problems.append(
                    f"Working interval #{position} {label} must be a naive time of day (the calendar's "
                    f"zone applies), not {value!r}."
                )
    return problems


def _holiday_problems(calendar: Calendar) -> list[str]:
    problems = []
    for position, holiday in enumerate(calendar.holidays, start=1):
        if not isinstance(holiday, Holiday):
            problems.append(f"Holiday #{position} is not a Holiday.")
        elif not isinstance(holiday.day, date) or isinstance(holiday.day, datetime):
            problems.append(f"Holiday #{position} must be a date, not {holiday.day!r}.")
    return problems


def _time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * _SECOND + value.microsecond


def _pieces(interval: WorkingInterval) -> list[tuple[int, int, int]]:
    """The interval as ``(weekday, start, end)`` pieces within single days (microseconds of day).

    An overnight shift is cut at midnight; its after-midnight tail belongs to the next weekday
    (Sunday's to Monday), which is exactly how the semantics attribute it to a local date.
    """
    start, end = _time_us(interval.start), _time_us(interval.end)
    if end > start:
        return [(interval.weekday, start, end)]
    pieces = [(interval.weekday, start, _DAY)]
    if end > 0:
        pieces.append(((interval.weekday + 1) % 7, 0, end))
    return pieces


def _covers_every_day(holidays: tuple[Holiday, ...]) -> bool:
    """Whether yearly holidays leave no day of any year (Feb 29 included) to work on."""
    return len({(h.day.month, h.day.day) for h in holidays if h.yearly}) >= 366


def validate(calendar: Calendar) -> list[str]:
    """Human-readable problems of ``calendar``; an empty list means it is valid.

    Reports an unknown time zone, malformed intervals or holidays (a weekday outside 0-6, for
    instance), overlapping intervals on the weekly cycle (including an overnight shift running
    into the next day's interval, and Sunday night into Monday) and, unless the calendar is
    24x7, a calendar without any working time.
    """
    shape_problems = _interval_problems(calendar) + _holiday_problems(calendar)
    problems = _zone_problems(calendar) + shape_problems
    if shape_problems:
        # Overlaps and totals are meaningless on intervals or holidays that cannot be read;
        # an unknown zone, though, does not stop checking the intervals themselves.
        return problems

    by_day: list[list[tuple[int, int, int]]] = [[] for _ in range(7)]
    for index, interval in enumerate(calendar.intervals):
        for weekday, start, end in _pieces(interval):
            by_day[weekday].append((start, end, index))
    overlapping: set[tuple[int, int]] = set()
    for pieces in by_day:
        pieces.sort()
        for position, (_, end, index) in enumerate(pieces):
            for other_start, _, other_index in pieces[position + 1 :]:
                if other_start >= end:
                    break
                overlapping.add((min(index, other_index), max(index, other_index)))
    for first, second in sorted(overlapping):
        problems.append(
            f"Working interval {_describe(calendar.intervals[first])} overlaps {_describe(calendar.intervals[second])}."
        )

    if not calendar.always_open:
        if not calendar.intervals:
            problems.append("The calendar has no working time: add working intervals or make it 24x7.")
        elif _covers_every_day(calendar.holidays):
            problems.append("The calendar has no working time: yearly holidays cover every day of the year.")
    return problems


# --- compiled calendars ----------------------------------------------------------------------


def _merge(windows: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _weekday(day: int) -> int:
    """Weekday of a day number (days since 1970-01-01, a Thursday)."""
    return (day + 3) % 7


def _year_of(day: int) -> int:
    return date.fromordinal(day + _EPOCH_ORDINAL).year


@dataclass(eq=False)
class _Compiled:
    """A calendar prepared for arithmetic.

    ``windows[w]`` holds the sorted, disjoint, non-touching wall-clock windows of weekday
    ``w`` in microseconds since local midnight (overnight tails included), ``day_totals[w]``
    their length. Day numbers are local dates counted from 1970-01-01.
    """

    zone: ZoneInfo
    always_open: bool
    windows: tuple[tuple[tuple[int, int], ...], ...]
    day_totals: tuple[int, ...]
    week_total: int
    has_working_time: bool
    fixed_holidays: frozenset[int]
    yearly_holidays: frozenset[tuple[int, int]]
    _holidays_by_year: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def is_holiday(self, day: int) -> bool:
        if not self.fixed_holidays and not self.yearly_holidays:
            return False
        if day in self.fixed_holidays:
            return True
        local_date = date.fromordinal(day + _EPOCH_ORDINAL)
        return (local_date.month, local_date.day) in self.yearly_holidays

    def holidays_of_year(self, year: int) -> tuple[int, ...]:
        """Sorted day numbers of every holiday in ``year`` (memoised per year)."""
        days = self._holidays_by_year.get(year)
        if days is None:
            first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            found = {day for day in self.fixed_holidays if first <= day + _EPOCH_ORDINAL <= last}
            for month, day_of_month in self.yearly_holidays:
                if month == 2 and day_of_month == 29 and not _is_leap(year):
                    continue
                found.add(date(year, month, day_of_month).toordinal() - _EPOCH_ORDINAL)
            days = tuple(sorted(found))
            self._holidays_by_year[year] = days
        return days

    def holidays_between(self, first: int, stop: int) -> list[int]:
        """Day numbers of holidays in ``[first, stop)``."""
        if stop <= first or (not self.fixed_holidays and not self.yearly_holidays):
            return []
        found: list[int] = []
        for year in range(_year_of(first), _year_of(stop - 1) + 1):
            days = self.holidays_of_year(year)
            found.extend(days[bisect_left(days, first) : bisect_left(days, stop)])
        return found

    def day_span(self, day: int, low: int, high: int) -> int:
        """Business microseconds of local day ``day`` between ``low`` and ``high`` (of day)."""
        if self.is_holiday(day):
            return 0
        total = 0
        for start, end in self.windows[_weekday(day)]:
            overlap = min(end, high) - max(start, low)
            if overlap > 0:
                total += overlap
        return total

    def whole_days(self, first: int, stop: int) -> int:
        """Business microseconds of the whole local days ``[first, stop)``.

        Whole weeks contribute ``week_total`` each without looking at single days; holidays are
        then subtracted one by one, so the cost grows with the holidays in the span, not its length.
        """
        count = stop - first
        if count <= 0:
            return 0
        weeks, rest = divmod(count, 7)
        total = weeks * self.week_total
        for offset in range(rest):
            total += self.day_totals[_weekday(first + offset)]
        for holiday in self.holidays_between(first, stop):
            total -= self.day_totals[_weekday(holiday)]
        return total

    def wall_span(self, low: int, high: int) -> int:
        """Business microseconds of the wall-clock span ``[low, high)``."""
        if high <= low:
            return 0
        first, first_from = divmod(low, _DAY)
        last, last_until = divmod(high, _DAY)
        if first == last:
            return self.day_span(first, first_from, last_until)
        return (
            self.day_span(first, first_from, _DAY)
            + self.whole_days(first + 1, last)
            + (self.day_span(last, 0, last_until) if last_until else 0)
        )

    def wall_locate(self, low: int, need: int) -> int:
        """The earliest wall time ``x`` with ``wall_span(low, x) == need`` (``need > 0``).

        The caller guarantees that such a time exists, so the loops end. Being the earliest
        means landing on the end of a window rather than the start of the next when the
        target is reached exactly at closing time.
        """
        day, of_day = divmod(low, _DAY)
        available = self.day_span(day, of_day, _DAY)
        if available < need:
            need -= available
            day += 1
            of_day = 0
            while (week := self.whole_days(day, day + 7)) < need:
                need -= week
                day += 7
            while (available := self.whole_days(day, day + 1)) < need:
                need -= available
                day += 1
        for start, end in self.windows[_weekday(day)]:
            start = max(start, of_day)
            if end <= start:
                continue
            if end - start >= need:
                return day * _DAY + start + need
            need -= end - start
        raise AssertionError("wall_locate called beyond the available business time")

    def wall_next_open(self, low: int, high: int) -> int | None:
        """The earliest business wall time in ``[low, high)``, or None."""
        day, of_day = divmod(low, _DAY)
        while day * _DAY < high:
            if not self.is_holiday(day):
                for start, end in self.windows[_weekday(day)]:
                    candidate = day * _DAY + max(start, of_day)
                    if candidate < min(day * _DAY + end, high):
                        return candidate
            day += 1
            of_day = 0
        return None

    def is_open_at_wall(self, wall: int) -> bool:
        day, of_day = divmod(wall, _DAY)
        if self.is_holiday(day):
            return False
        return any(start <= of_day < end for start, end in self.windows[_weekday(day)])


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@lru_cache(maxsize=256)
def _compile(calendar: Calendar) -> _Compiled:
    problems = _structural_problems(calendar)
    if problems:
        raise ValueError("Invalid calendar: " + " ".join(problems))
    zone = _load_zone(calendar.timezone)
    assert zone is not None  # guaranteed by _structural_problems
    per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for interval in calendar.intervals:
        for weekday, start, end in _pieces(interval):
            per_day[weekday].append((start, end))
    windows = tuple(_merge(pieces) for pieces in per_day)
    day_totals = tuple(sum(end - start for start, end in day) for day in windows)
    week_total = sum(day_totals)
    return _Compiled(
        zone=zone,
        always_open=calendar.always_open,
        windows=windows,
        day_totals=day_totals,
        week_total=week_total,
        has_working_time=calendar.always_open or (week_total > 0 and not _covers_every_day(calendar.holidays)),
        fixed_holidays=frozenset(h.day.toordinal() - _EPOCH_ORDINAL for h in calendar.holidays if not h.yearly),
        yearly_holidays=frozenset((h.day.month, h.day.day) for h in calendar.holidays if h.yearly),
    )


# --- instants and zone offsets -----------------------------------------------------------


def _instant(value: datetime, name: str) -> int:
    """Microseconds since the epoch of an aware datetime; refuses naive ones."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive datetime {value!r}")
    instant = (value - _EPOCH) // _ONE_MICROSECOND
    if not _year_start(_MIN_YEAR) <= instant < _year_start(_MAX_YEAR + 1):
        raise ValueError(f"{name} is outside the supported years {_MIN_YEAR}-{_MAX_YEAR}")
    return instant


def _datetime(instant: int) -> datetime:
    return _EPOCH + timedelta(microseconds=instant)


@cache
def _year_start(year: int) -> int:
    return (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_MICROSECOND


def _offset(zone: ZoneInfo, instant: int) -> int:
    """UTC offset of ``zone`` at ``instant`` in microseconds (local = instant + offset)."""
    offset = _datetime(instant).astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset // _ONE_MICROSECOND


@lru_cache(maxsize=4096)
def _transitions(zone: ZoneInfo, year: int) -> tuple[tuple[int, int], ...]:
    """``(instant, offset from then on)`` for each UTC offset change in UTC year ``year``.

    zoneinfo has no public list of transitions, so they are found by sampling every
    ``_PROBE`` and bisecting to the second (tz database transitions fall on whole seconds).
    Changes of abbreviation or DST flag alone are irrelevant here and are not reported.
    """
    found: list[tuple[int, int]] = []
    low, stop = _year_start(year), _year_start(year + 1)
    low_offset = _offset(zone, low)
    while low < stop:
        high = min(low + _PROBE, stop)
        high_offset = _offset(zone, high)
        if high_offset != low_offset:
            before, after = low, high  # the change happens in (before, after]
            while after - before > _SECOND:
                middle = before + (after - before) // (2 * _SECOND) * _SECOND
                if _offset(zone, middle) == low_offset:
                    before = middle
                else:
                    after = middle
            found.append((after, _offset(zone, after)))
        low, low_offset = high, high_offset
    return tuple(found)


def _segments(zone: ZoneInfo, instant: int) -> Iterator[tuple[int, int, int]]:
    """Consecutive ``(start, end, offset)`` pieces of the time line from ``instant`` on.

    The offset is constant on each piece, so the local wall clock runs at the speed of real
    time there (``wall = instant + offset``). Pieces are also cut at the start of each UTC
    year, which is harmless. Raises ValueError past the supported years instead of looping.
    """
    current, offset = instant, _offset(zone, instant)
    year = _datetime(instant).year
    while year <= _MAX_YEAR:
        for change, new_offset in _transitions(zone, year):
            if change > current:
                yield current, change, offset
                current, offset = change, new_offset
        year_end = _year_start(year + 1)
        if year_end > current:
            yield current, year_end, offset
            current = year_end
        year += 1
    raise ValueError(f"the result lies beyond the supported years {_MIN_YEAR}-{_MAX_YEAR}")


# --- public arithmetic -------------------------------------------------------------------


def is_business_time(calendar: Calendar, at: datetime) -> bool:
    """Whether the instant ``at`` is business time of ``calendar``."""
    instant = _instant(at, "at")
    compiled = _compile(calendar)
    if compiled.always_open:
        return True
    return compiled.is_open_at_wall(instant + _offset(compiled.zone, instant))


def business_seconds(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Business time in ``[start, end)`` in seconds; 0 when ``end <= start``.

    Additive: ``business_seconds(a, c) == business_seconds(a, b) + business_seconds(b, c)``
    for ``a <= b <= c`` (exactly, as durations are integral microseconds internally).
    """
    low, high = _instant(start, "start"), _instant(end, "end")
    if high <= low:
        return 0.0
    compiled = _compile(calendar)
    if compiled.always_open:
        return (high - low) / _SECOND
    total = 0
    for piece_start, piece_end, offset in _segments(compiled.zone, low):
        if piece_start >= high:
            break
        total += compiled.wall_span(piece_start + offset, min(piece_end, high) + offset)
    return total / _SECOND


def add_business_time(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The earliest instant ``t >= start`` with ``business_seconds(start, t) == seconds``.

    ``seconds`` is rounded to whole microseconds. Zero returns ``start`` itself (as UTC), even
    outside working hours: a clock with nothing left to run is due at once. Otherwise the
    result is always business time or the closing instant of a working window (never the
    next opening, when the target is reached exactly at closing time).

    Raises ValueError for a negative or non-finite ``seconds`` and, for a positive one, when
    the calendar has no working time at all.
    """
    low = _instant(start, "start")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
    need = round(seconds * _SECOND)
    if need == 0:
        return start.astimezone(UTC)
    compiled = _compile(calendar)
    if compiled.always_open:
        return _datetime(low + need)
    if not compiled.has_working_time:
        raise ValueError("the calendar has no working time, so a business-time target is never reached")
    for piece_start, piece_end, offset in _segments(compiled.zone, low):
        available = compiled.wall_span(piece_start + offset, piece_end + offset)
        if available >= need:
            return _datetime(compiled.wall_locate(piece_start + offset, need) - offset)
        need -= available
    raise AssertionError("_segments ends by raising")  # pragma: no cover


def next_business_instant(calendar: Calendar, at: datetime) -> datetime:
    """``at`` (as UTC) if it is business time, else the next instant business time starts.

    Raises ValueError when the calendar has no working time at all.
    """
    instant = _instant(at, "at")
    compiled = _compile(calendar)
    if compiled.always_open:
        return _datetime(instant)
    if not compiled.has_working_time:
        raise ValueError("the calendar has no working time, so it never opens")
    for piece_start, piece_end, offset in _segments(compiled.zone, instant):
        found = compiled.wall_next_open(piece_start + offset, piece_end + offset)
        if found is not None:
            return _datetime(found - offset)
    raise AssertionError("_segments ends by raising")  # pragma: no cover
