"""Time zones people choose from: an SLA calendar's zone and a person's own zone (one list for both)."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from zoneinfo import available_timezones

_ZONE_REGIONS_SKIPPED = ("Etc/", "SystemV/", "posix/", "right/")


@cache
def zone_names() -> tuple[str, ...]:
    """IANA zones a person would pick (Region/City, plus UTC), sorted."""
    names = {name for name in available_timezones() if "/" in name and not name.startswith(_ZONE_REGIONS_SKIPPED)}
    return tuple(sorted(names | {"UTC"}))


def is_zone(name: str) -> bool:
    """Whether the tz database knows ``name`` (a stored "Etc/GMT+5" counts, though it is not offered)."""
    return name in available_timezones()


def zone_choices(current: str | None = None, *, empty_label: str = "Choose a time zone") -> list:
    """Zones grouped by region for a select; a stored zone outside the list stays selectable.

    ``current`` is offered under "Current" when the tz database knows it but the list leaves it
    out; an unknown name is not offered (so it cannot be saved again).
    """
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    names = set(zone_names())
    if current and current not in names and is_zone(current):
        groups["Current"].append((current, current))
    for name in sorted(names):
        region = name.split("/", 1)[0] if "/" in name else "Universal"
        groups[region].append((name, name.replace("_", " ")))
    return [("", empty_label), *((region, options) for region, options in groups.items())]
