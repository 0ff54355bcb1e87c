"""One conversion of KPI values for the page, the API and the CSV, so all three show the same numbers.

``plain`` is the machine form (API, CSV): rates as a fraction 0-1 rounded to 6 places, seconds
rounded to 0.001, counts as they are. ``human`` is the page's form of the very same value.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction

from django.template.defaultfilters import pluralize
from django.utils.dateformat import format as date_format

from . import kpis
from .kpis.figures import TrendValue

NONE = "\N{EN DASH}"  # shown for a figure without data


def plain(value):
    if value is None:
        return None
    if isinstance(value, Fraction):
        return round(float(value), 6)
    if isinstance(value, Decimal | float):
        return round(float(value), 3)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def duration(seconds) -> str:
    if seconds is None:
        return NONE
    seconds = round(float(seconds))
    minutes, sec = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    sign = "-" if seconds < 0 else ""
    if hours >= 24:
        return f"{sign}{hours // 24} d {hours % 24} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{minutes} min {sec:02d} s" if minutes else f"{sign}{sec} s"


def counted(number: int, noun: str, plural: str = "s") -> str:
    """ "1 ticket", "2 tickets": Django's ``pluralize``, as the templates use it (``plural`` as its argument)."""
    return f"{number:,} {noun}{pluralize(number, plural)}"


def human(value, unit: str) -> str:
    if value is None:
        return NONE
    if unit == "rate":
        return f"{float(value) * 100:.1f} %"
    if unit == "seconds":
        return duration(value)
    if unit == "score":
        return f"{float(value):.2f}"
    return f"{value:,}"


def human_change(figure: kpis.Figure) -> str:
    change = figure.change
    if change is None:
        return "no previous figure"
    if figure.unit == "rate":
        text = f"{float(change) * 100:+.1f} pts"
    elif figure.unit == "seconds":
        text = ("+" if change >= 0 else "-") + duration(abs(float(change)))
    else:
        text = f"{change:+,}"
    return f"{text} vs previous period"


def detail(figure: kpis.Figure) -> str:
    """The line under a figure: what it is made of, in the page's words."""
    p = figure.parts
    if figure.key == "first_response_time":
        return (
            f"Median business time; mean {duration(p['mean'])}. Wall time: median {duration(p['wall_median'])}, "
            f"mean {duration(p['wall_mean'])}. {counted(p['count'], 'ticket')}."
        )
    if figure.key == "resolution_time":
        return f"Median business time, pauses excluded; mean {duration(p['mean'])}. {counted(p['count'], 'ticket')}."
    if figure.key == "csat":
        return (
            f"Scores of 4-5: {p['happy']} of {counted(p['answered'], 'answer')}; "
            f"mean score {human(p['mean_score'], 'score')}; "
            f"response rate {human(p['response_rate'], 'rate')} ({p['answered']} of {counted(p['surveys'], 'survey')})."
        )
    if figure.key == "deflection_rate":
        return (
            f"{counted(p['deflections'], 'deflection')}, {counted(p['portal_tickets'], 'portal ticket')} (desk-wide)."
        )
    if figure.key == "escalation_rate":
        return f"{p['escalated']} of {counted(p['created'], 'ticket')} created in the period."
    if figure.key == "backlog":
        return " · ".join(f"{label}: {p[key]}" for key, label in kpis.AGE_BUCKETS)
    if figure.key == "volume":
        return " · ".join(f"{channel}: {count}" for channel, count in p["by_channel"].items()) or "No tickets."
    if "numerator" in p:
        return f"{p['numerator']} of {p['denominator']}."
    return ""


def figure_dict(figure: kpis.Figure) -> dict:
    return {
        "key": figure.key,
        "label": figure.label,
        "unit": figure.unit,
        "value": plain(figure.value),
        "previous": plain(figure.previous),
        "change": plain(figure.change),
        "parts": _plain_parts(figure.parts),
        "previous_parts": _plain_parts(figure.previous_parts),
        "trend": [{"day": day.isoformat(), "value": plain(value)} for day, value in figure.trend],
    }


def _plain_parts(parts: dict) -> dict:
    return {str(k): (_plain_parts(v) if isinstance(v, dict) else plain(v)) for k, v in parts.items()}


def table_dicts(rows: list[kpis.TableRow]) -> list[dict]:
    return [
        {"key": row.key, "label": row.label, **{name: plain(getattr(row, name)) for name, _, _ in kpis.TABLE_COLUMNS}}
        for row in rows
    ]


def _flat(prefix: str, parts: dict) -> dict:
    flat = {}
    for key, value in parts.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(f"{name}.", value))
        else:
            flat[name] = plain(value)
    return flat


def csv_tables(figures: dict[str, kpis.Figure], agents: list | None, tiers: list | None) -> dict[str, tuple]:
    """name -> (header, rows) of every table the page shows."""
    tables: dict[str, tuple] = {}
    rows = []
    for figure in figures.values():
        for name, value in _flat("", figure.parts).items():
            previous = _flat("", figure.previous_parts).get(name)
            rows.append([figure.key, name, value, previous])
        rows.append([figure.key, "value", plain(figure.value), plain(figure.previous)])
    tables["figures"] = (["figure", "measure", "period", "previous_period"], rows)
    days = [day for day, _ in next(iter(figures.values())).trend] if figures else []
    trend_rows = []
    for index, day in enumerate(days):
        trend_rows.append([day.isoformat(), *[plain(f.trend[index][1]) for f in figures.values()]])
    tables["trend"] = (["day", *figures.keys()], trend_rows)
    volume = figures.get("volume")
    if volume is not None:
        tables["channels"] = (
            ["channel", "period", "previous_period"],
            [
                [channel, count, volume.previous_parts["by_channel"].get(channel, 0)]
                for channel, count in volume.parts["by_channel"].items()
            ],
        )
    escalation = figures.get("escalation_rate")
    if escalation is not None:
        tables["escalation"] = (
            ["tier", "entered", "escalated", "rate"],
            [
                [tier, v["entered"], v["escalated"], plain(v["rate"])]
                for tier, v in escalation.parts["per_tier"].items()
            ],
        )
    header = ["key", "label", *[name for name, _, _ in kpis.TABLE_COLUMNS]]
    for name, table in (("agents", agents), ("tiers", tiers)):
        if table is not None:
            tables[name] = (header, [[d["key"], d["label"], *list(d.values())[2:]] for d in table_dicts(table)])
    return tables


def csv_text(header: list, rows: list) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


# Durations on a trend axis: the largest unit that keeps the day values readable (24-hour days,
# as ``duration`` writes them).
_TIME_SCALES = ((2 * 3600, 60, "min"), (3 * 86400, 3600, "h"), (None, 86400, "d"))
UNIT_NAMES = {"%": "percent", "min": "minutes", "h": "hours", "d": "days"}


def chart_data(figures: dict[str, kpis.Figure]) -> dict:
    """Trend series for Chart.js, with the axis unit and each day's value as the page writes it.

    Rates are plotted in percent; durations in minutes, hours or days (whichever suits the
    series, named on the axis); counts and scores as they are. ``texts`` holds each day's value
    in the figure's own words ("2 h 05 min", "33.3 %"), so a tooltip reads like the figure above
    it. A day without data is null: the line runs on across it, and a day with data between two
    empty days is also drawn as a point (``static/reports/dashboard.js``).
    """
    data = {}
    for key, figure in figures.items():
        raw = [value for _, value in figure.trend]
        unit, divisor = ("%", 1) if figure.unit == "rate" else ("", 1)
        if figure.unit == "seconds":
            largest = max((float(v) for v in raw if v is not None), default=0.0)
            _, divisor, unit = next(scale for scale in _TIME_SCALES if scale[0] is None or largest < scale[0])
        values: list[TrendValue] = []
        for value in raw:
            if value is None:
                values.append(None)
            elif figure.unit == "rate":
                values.append(round(float(value) * 100, 2))
            elif figure.unit == "seconds":
                values.append(round(float(value) / divisor, 2))
            else:
                values.append(value)
        data[key] = {
            "labels": [date_format(day, "j M") for day, _ in figure.trend],
            "values": values,
            "texts": [human(value, figure.unit) for value in raw],
            "unit": unit,
            "unit_name": UNIT_NAMES.get(unit, ""),
            "whole": figure.unit == "count",
        }
    return data
