"""One date/time style everywhere: ``{% when value %}``.

Shows a moment relative to now ("4 minutes ago", "in 2 hours", "yesterday 14:05", or the date
for anything older than a week) inside ``<time>``, with the exact time in the reader's time
zone as its tooltip and its ISO form as ``datetime`` (so scripts and tests read the real
instant). Times are in the active time zone: the person's own (``User.time_zone``, activated by
``helpdesk.core.middleware.UserTimeZoneMiddleware``) or the desk's ``TIME_ZONE``.
``{% when value exact=True %}`` shows the exact time as the text.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

# Formatted with ``strftime`` (English names, as the whole interface), not Django's ``dateformat``,
# which costs several times as much and runs hundreds of times on a long ticket page.


def exact_text(local: datetime) -> str:
    """ "Thu 3 Dec 2026, 14:05 CET" for a time already in the zone to show."""
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def _day(local: datetime | date, *, year: bool) -> str:
    return f"{local.day} {local:%b %Y}" if year else f"{local.day} {local:%b}"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def relative(value: datetime, now: datetime) -> str:
    """``value`` in words, seen from ``now`` (both aware; calendar days in the active zone)."""
    seconds = (now - value).total_seconds()
    ahead = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        return "just now"
    if seconds < 45 * 60:
        words = _count(max(1, round(seconds / 60)), "minute")
    elif seconds < 22 * 3600:
        words = _count(round(seconds / 3600), "hour")
    else:
        local, today = timezone.localtime(value), timezone.localtime(now).date()
        days = (local.date() - today).days
        if days == -1:
            return f"yesterday {local:%H:%M}"
        if days == 1:
            return f"tomorrow {local:%H:%M}"
        if abs(days) < 7:
            return f"{local:%a %H:%M}"
        return _day(local, year=local.year != today.year)
    return f"in {words}" if ahead else f"{words} ago"


@register.simple_tag
def when(value: datetime | date | None, exact: bool = False, now: datetime | None = None) -> str:
    """``<time>`` for ``value``: relative text, exact time on hover; an empty string for None."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), _day(value, year=True))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    local = timezone.localtime(value)
    full = exact_text(local)
    text = full if exact else relative(value, now or timezone.now())
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), full, text)
