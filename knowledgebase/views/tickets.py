"""Agents on a ticket: link and unlink articles, draft an article from the resolution note.

The ticket is fetched with ``tickets.permissions.get_ticket_for`` (404 when hidden) and the
action needs ``can_work`` on it; the answer is always the ticket page, with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from helpdesk.core.models import User
from tickets.models import Ticket
from tickets.permissions import get_ticket_for

from .. import permissions, services
from ..forms import LinkForm


def _ticket_to_work(user: User, ticket_pk: int) -> Ticket:
    ticket = get_ticket_for(user, ticket_pk)
    if not permissions.can_link(user, ticket):
        raise PermissionDenied
    return ticket


@require_POST
@login_required
def ticket_link(request, ticket_pk: int):
    ticket = _ticket_to_work(request.user, ticket_pk)
    form = LinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the number of the article to link.")
        return redirect(ticket)
    try:
        link = services.link_article(ticket_id=ticket.pk, article_id=form.cleaned_data["article"], by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Article “{link.article.title}” linked.")
    return redirect(ticket)


@require_POST
@login_required
def ticket_unlink(request, ticket_pk: int, article_pk: int):
    ticket = _ticket_to_work(request.user, ticket_pk)
    services.unlink_article(ticket_id=ticket.pk, article_id=article_pk, by=request.user)
    messages.success(request, "Article unlinked.")
    return redirect(ticket)


@require_POST
@login_required
def ticket_draft(request, ticket_pk: int):
    """One click: a draft article from the ticket's resolution, then its editor."""
    ticket = _ticket_to_work(request.user, ticket_pk)
    if not permissions.can_write(request.user):
        raise PermissionDenied
    try:
        article, created = services.draft_from_ticket(ticket_id=ticket.pk, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(ticket)
    if created:
        messages.success(request, "Draft created from the resolution: edit it, then submit it for review.")
        return redirect("knowledgebase:article_edit", pk=article.pk)
    messages.info(request, "An article was already drafted from this ticket.")
    return redirect(article.get_manage_url())
