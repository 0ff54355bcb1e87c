"""Every KPI of the dashboard, its API and its CSV export: one function per figure, computed in SQL.

Definitions (DESIGN.md "KPI definitions", made exact)
=====================================================

Periods and days
----------------
* Days are calendar days in ``settings.TIME_ZONE``. A period is a run of whole days
  ``[first day 00:00, day after the last day 00:00)``: "today" is today, "7/30/90 days" are the
  last 7/30/90 days including today, "custom" is a first and last day (at most 366 days, not
  after today). The *previous period* is the same number of days just before it.
* "Now" caps everything: nothing that has not happened yet is counted, and "at the end of the
  period" means ``min(end of the last day, now)``.

Scope
-----
The filters (tier, category, agent, channel, priority) select tickets by their attributes
**now** (the agent is the current assignee). The ticket lists behind the figures filter the
same way, so a figure and its list always agree. The deflection rate is desk-wide: a
deflection has no tier, category or agent, so the scope does not apply to it.

Which timestamp places a ticket in a period
-------------------------------------------
* **Volume** (and by channel): the ticket's creation time.
* **First response time**: the end of the ticket's first SLA ``first_response`` clock when it
  was met (by the first public agent reply, or by a resolution without any reply, as the SLA
  engine counts it). Business time = that clock's ``accrued_seconds`` (business time of the
  ticket's SLA calendar, pauses excluded); wall time = clock end - ticket creation. Median
  and mean. Tickets without such a clock (no target) are not counted.
* **Resolution time**: the end of the first ``resolution`` clock when met, i.e. the ticket's
  first resolution; business seconds from creation, paused time excluded. Median and mean.
* **Resolved** tickets (base of FCR and reopen rate): the ticket's *first* RESOLVED event.
  **FCR**: of those, the tickets never escalated (no ESCALATED event, up to now), never
  reopened (no REOPENED event, up to now) and without a public requester reply after the
  first public agent reply and before that first resolution. **Reopen rate**: of those, the
  share with at least one REOPENED event (up to now).
* **SLA compliance** (response = first and next response clocks of every cycle; resolution =
  resolution clocks of every cycle; OLA and UC are internal and not part of it): a clock
  counts when its target *came due or was met*: a clock met within its target at the moment
  it was met; any other clock at its due time, once that is past (a clock met late, breached
  while running or paused, or stopped after its due time). Clocks stopped before their due
  time (ticket merged or closed unresolved) never count. Compliance = met within target / counted.
* **CSAT**: one survey per resolution (cycle); it belongs to the period of the resolution it
  rates. Response rate = answered / surveys; CSAT = answers scoring 4 or 5 / answered; mean
  score over answered ones.
* **Backlog** at the end of the period (and of each day, for the trend): tickets created
  before that instant whose status at that instant was new, open or waiting (the last status
  change before it), by age at that instant: < 1 day, 1-3 days, 3-7 days, >= 7 days.
* **Escalation rate**: of the tickets created in the period, the share escalated at least once
  (up to now). Per tier N (1-3): of those tickets that were ever in tier N (created there, or
  moved into it), the share escalated out of tier N.
* **Deflection rate** = deflections / (deflections + tickets submitted through the portal), both
  counted by their creation time.
* Each figure's change is against the same figure of the previous period; the trend is the
  figure per day of the period (for the backlog: at the end of each day; for the two times:
  the daily *mean*, medians being computed for whole periods only). The per-agent and
  per-tier tables give mean times.

How it is computed
------------------
``LIVE_DAILY_SQL`` (``sql``) turns the ticket, event, SLA clock and survey tables into additive components
per day and scope combination (counts, exact ``numeric`` sums, sorted value arrays for the
medians). ``reports.rollup`` stores those very rows for closed days (``DailyFigure``); a
figure reads them for days that are built and unchanged since, and runs ``LIVE_DAILY_SQL`` for
every other day (today, changed days, days never built) in the same statement, so figures
are exact whether or not beat has run. Medians are ``percentile_cont(0.5)`` over the values.

Modules
-------
* ``definitions``: periods, the scope filters and the component columns.
* ``sql``: the per-ticket parts, the live daily rows and the rows of a period (rollup + live).
* ``medians``: the exact medians from cached windows of the rollup's values.
* ``snapshot``: one statement reading every component of a scope and period.
* ``figures``: one function per KPI, the per-agent and per-tier tables, the dashboard.
* ``lists``: the tickets behind a figure.

This package re-exports the names the pages, the API, the rollup and the tests use.
"""

from .definitions import (
    AGE_BUCKETS,
    MAX_DAYS,
    PERIOD_CHOICES,
    Period,
    Scope,
    day_start,
    make_period,
    today,
)
from .figures import FIGURES, TABLE_COLUMNS, Dashboard, Figure, TableRow, all_figures, dashboard
from .lists import TICKET_LISTS, ticket_list_label, tickets_behind_sql
from .medians import _window_median
from .snapshot import Components, Snapshot, snapshot
from .sql import CLOCK_PLACED, STORED_COLUMNS, live_daily_rows

__all__ = [
    "AGE_BUCKETS",
    "CLOCK_PLACED",
    "FIGURES",
    "MAX_DAYS",
    "PERIOD_CHOICES",
    "STORED_COLUMNS",
    "TABLE_COLUMNS",
    "TICKET_LISTS",
    "Components",
    "Dashboard",
    "Figure",
    "Period",
    "Scope",
    "Snapshot",
    "TableRow",
    "_window_median",
    "all_figures",
    "dashboard",
    "day_start",
    "live_daily_rows",
    "make_period",
    "snapshot",
    "ticket_list_label",
    "tickets_behind_sql",
    "today",
]
