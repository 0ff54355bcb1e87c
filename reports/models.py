"""Reports data: satisfaction surveys and the exact daily rollup of the KPI components.

* ``Survey``: one per resolution of a ticket (its resolution cycle), created in the transaction
  of the RESOLVED event; the requester answers it (1-5 and a comment) from the mailed signed
  link or the ticket page, and may change the answer until the ticket closes.
* ``DailyFigure``: the additive components of every KPI for one closed day and one
  combination of the scope attributes (tier, category, assignee, channel, priority). Written
  only by ``reports.rollup`` from the same SQL the live figures use (``reports.kpis``).
* ``RollupDay`` says which days the rollup holds, ``DirtyDay`` which of them changed since
  (marked in the transaction of the change). A figure reads the rollup only for days that are
  built and clean and computes every other day live, so it is exact whether beat ran or not.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from tickets.models import Ticket


class Survey(models.Model):
    """The satisfaction survey of one resolution (``cycle`` = 1 for the first resolution, 2 after a reopen...)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surveys")
    cycle = models.PositiveIntegerField()
    resolved_at = models.DateTimeField(help_text="When the resolution it rates happened (places it in a period).")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the mail with the link went out.")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "cycle"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "cycle"], name="reports_survey_once_per_cycle"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5), name="reports_survey_score_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True, answered_at__isnull=True)
                | Q(score__isnull=False, answered_at__isnull=False),
                name="reports_survey_answer_has_time",
            ),
        ]
        indexes = [models.Index(fields=["resolved_at"], name="reports_survey_resolved_idx")]

    def __str__(self) -> str:
        return f"Survey #{self.cycle} of ticket {self.ticket_id}"


class DailyFigure(models.Model):
    """KPI components of one closed day for one scope combination (see ``reports.kpis``)."""

    day = models.DateField()
    tier = models.PositiveSmallIntegerField()
    category_id = models.BigIntegerField(null=True)
    assignee_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=10)
    priority = models.PositiveSmallIntegerField()
    created = models.IntegerField(default=0)
    frt_n = models.IntegerField(default=0)
    frt_sum = models.DecimalField(max_digits=24, decimal_places=6, default=0)
    frt_wall_sum = models.DecimalField(max_digits=24, decimal_places=6, default=0)
    frt_values = ArrayField(models.FloatField(), default=list)
    frt_wall_values = ArrayField(models.FloatField(), default=list)
    res_n = models.IntegerField(default=0)
    res_sum = models.DecimalField(max_digits=24, decimal_places=6, default=0)
    res_values = ArrayField(models.FloatField(), default=list)
    resolved = models.IntegerField(default=0)
    fcr = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    escalated = models.IntegerField(default=0)
    entered_1 = models.IntegerField(default=0)
    entered_2 = models.IntegerField(default=0)
    entered_3 = models.IntegerField(default=0)
    esc_from_1 = models.IntegerField(default=0)
    esc_from_2 = models.IntegerField(default=0)
    esc_from_3 = models.IntegerField(default=0)
    resp_due = models.IntegerField(default=0)
    resp_met = models.IntegerField(default=0)
    res_due = models.IntegerField(default=0)
    res_met = models.IntegerField(default=0)
    surveys = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    happy = models.IntegerField(default=0)
    score_sum = models.IntegerField(default=0)
    backlog_1d = models.IntegerField(default=0)
    backlog_3d = models.IntegerField(default=0)
    backlog_7d = models.IntegerField(default=0)
    backlog_old = models.IntegerField(default=0)

    class Meta:
        ordering = ["day"]
        indexes = [models.Index(fields=["day"], name="reports_daily_day_idx")]

    def __str__(self) -> str:
        return f"KPI components of {self.day}"


class RollupDay(models.Model):
    """A closed day whose ``DailyFigure`` rows are written (with the deflections of that day)."""

    day = models.DateField(primary_key=True)
    deflections = models.IntegerField(default=0)
    built_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Rollup of {self.day}"


class DirtyDay(models.Model):
    """A closed day changed after its rollup was written; ``version`` is bumped by every change.

    Writers upsert the row inside their own transaction (taking its row lock), so the rollup
    refresh, which locks the row while it recomputes the day, never deletes a mark whose change
    it did not see.
    """

    day = models.DateField(primary_key=True)
    version = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.day} changed"
