"""Satisfaction surveys (the "Follow-up" step): one per resolution, answered by the requester.

* ``on_ticket_events`` (connected in ``ReportsConfig.ready``) creates the survey of a resolution
  in the RESOLVED event's transaction and queues its mail through the outbox, so the mail goes
  out exactly when the resolution commits. Every event also marks its ticket's past days dirty
  for the KPI rollup (``reports.rollup``), a batch of events in one statement.
* The mail carries a signed link (``django.core.signing``, expires after
  ``SURVEY_LINK_MAX_AGE``) that works without logging in; the ticket page shows the same form
  to the requester. One answer per resolution, changeable until the ticket closes.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from helpdesk.core import ratelimit
from helpdesk.core.models import User
from helpdesk.core.services import enqueue
from knowledgebase.models import Deflection
from tickets.models import EventKind, Status, Ticket, TicketEvent

from . import rollup
from .kpis.definitions import desk_date
from .models import Survey

SURVEY_TASK = "reports.tasks.send_survey_task"
SIGNING_SALT = "reports.survey"
SURVEY_LINK_MAX_AGE = dt.timedelta(days=30)
MAX_COMMENT = 2000


def on_ticket_events(sender: type[Ticket], events: list[TicketEvent], **kwargs: object) -> None:
    """``ticket_events`` receiver: keep the rollup exact and start the survey of each resolution.

    A changed ticket marks every day from its creation to yesterday, so a batch marks the days
    from its oldest ticket's creation: the same days, in one statement whatever its size. SLA
    events mark nothing: they record the sweep's warnings and breaches, and no figure reads
    them (SLA compliance comes from the clocks' due and end times, which they do not change);
    marking would make concurrent sweep batches queue on the same day rows for nothing.
    """
    changed = [e.ticket.created_at for e in events if e.kind != EventKind.SLA]
    if changed:
        rollup.mark_ticket_dirty(min(changed))
    for event in events:
        if event.kind == EventKind.RESOLVED:
            create_survey(ticket=event.ticket, resolved_at=event.at)


def create_survey(*, ticket: Ticket, resolved_at: dt.datetime) -> Survey:
    """The survey of the ticket's latest resolution (cycle = its number of RESOLVED events); mail queued.

    Runs in the resolution's transaction; the outbox's dedupe key sends each survey once.
    """
    cycle = TicketEvent.objects.filter(ticket_id=ticket.pk, kind=EventKind.RESOLVED).count()
    survey, created = Survey.objects.get_or_create(ticket=ticket, cycle=cycle, defaults={"resolved_at": resolved_at})
    if created:
        enqueue(SURVEY_TASK, kwargs={"survey_id": survey.pk}, dedupe_key=f"survey:{survey.pk}")
    return survey


def survey_token(survey: Survey) -> str:
    return signing.dumps({"survey": survey.pk}, salt=SIGNING_SALT, compress=True)


def survey_url(survey: Survey) -> str:
    return f"{settings.SITE_URL}{reverse('reports:survey', args=[survey_token(survey)])}"


def survey_for_token(token: str) -> Survey:
    """The survey a mailed link names; ``ValidationError`` when the link is forged or expired."""
    try:
        data = signing.loads(token, salt=SIGNING_SALT, max_age=SURVEY_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError("This survey link has expired.") from None
    except signing.BadSignature:
        raise ValidationError("This survey link is not valid.") from None
    survey = Survey.objects.select_related("ticket").filter(pk=data.get("survey")).first()
    if survey is None:
        raise ValidationError("This survey no longer exists.")
    return survey


def can_answer(user: User | None, survey: Survey) -> bool:
    """Only the requester answers (signed in: the ticket page; the mailed link stands for them)."""
    return user is not None and user.is_authenticated and survey.ticket.requester_id == user.pk


def is_open_for_answers(survey: Survey) -> bool:
    return survey.ticket.status != Status.CLOSED


def answer_survey(
    *, survey_id: int, score: int, comment: str = "", by: User | None = None, via_link: bool = False
) -> Survey:
    """Record (or change) the answer of one survey.

    Invariants: score 1-5, comment at most 2,000 characters; the ticket is not closed; ``by``
    is the requester unless the answer comes through the signed link (``via_link``); past the
    requester's rate limit for survey answers it is refused (``RateLimited``), nothing written.
    Side effects: the day of the rated resolution is marked dirty for the KPI rollup.
    """
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise ValidationError({"score": ["Choose a score from 1 to 5."]}) from None
    if not 1 <= score <= 5:
        raise ValidationError({"score": ["Choose a score from 1 to 5."]})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": [f"At most {MAX_COMMENT} characters."]})
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("ticket").get(pk=survey_id)
        if not via_link and not can_answer(by, survey):
            raise PermissionDenied("Only the requester answers the survey.")
        if not is_open_for_answers(survey):
            raise ValidationError("The ticket is closed; its survey can no longer be changed.")
        # Counted for the requester, whom the mailed link stands for too.
        ratelimit.enforce(ratelimit.SURVEY_ANSWER, user=survey.ticket.requester)
        survey.score, survey.comment, survey.answered_at = score, comment, timezone.now()
        survey.save(update_fields=["score", "comment", "answered_at"])
        day = desk_date(survey.resolved_at)
        rollup.mark_days_dirty(day, day)
    return survey


def send_survey_mail(survey_id: int) -> int:
    """Mail the requester the survey link (once: ``sent_at`` is set); returns mails sent."""
    survey = Survey.objects.select_related("ticket__requester").filter(pk=survey_id).first()
    if survey is None or survey.sent_at is not None or not survey.ticket.requester.email:
        return 0
    ticket = survey.ticket
    body = (
        f"Hello {ticket.requester.get_full_name() or ticket.requester.username},\n\n"
        f"your ticket {ticket.reference} “{ticket.subject}” was resolved. How did we do?\n"
        f"Rate it from 1 to 5 (and tell us why) here, no login needed:\n\n{survey_url(survey)}\n\n"
        f"The link works for {SURVEY_LINK_MAX_AGE.days} days; you can change your answer until the ticket closes.\n"
    )
    sent = send_mail(
        f"[{ticket.reference}] How did we do?", body, settings.DEFAULT_FROM_EMAIL, [ticket.requester.email]
    )
    Survey.objects.filter(pk=survey.pk).update(sent_at=timezone.now())
    return sent


def on_deflection_saved(sender: type[Deflection], instance: Deflection, created: bool, **kwargs: object) -> None:
    """A deflection dated in the past (imports, demo data) changes a closed day."""
    day = desk_date(instance.created_at)
    rollup.mark_days_dirty(day, day)


# --------------------------------------------------------------------------- the ticket page panel


def survey_panel(user: User, ticket: Ticket) -> dict | None:
    """Panel context: the requester gets the form of the latest survey, staff read every answer. One query."""
    from tickets import permissions

    surveys = list(Survey.objects.filter(ticket_id=ticket.pk).order_by("cycle"))
    if not surveys:
        return None
    if permissions.is_staff_reader(user):
        return {"surveys": surveys, "staff": True}
    if ticket.requester_id != user.pk:
        return None
    latest = surveys[-1]
    return {
        "staff": False,
        "survey": latest,
        "open": ticket.status != Status.CLOSED,
        "scores": [1, 2, 3, 4, 5],
    }
