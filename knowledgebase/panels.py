"""The knowledge-base panel of the ticket page (registered in ``KnowledgebaseConfig.ready``).

Staff readers see the articles linked to the ticket, the known errors matching its subject
(with their workaround) and, when they work the ticket, the forms to link an article or
draft one from the resolution. Requesters and vendor contacts see only the linked articles
they may read. One statement for them; three at most for staff (the linked articles, the
weights of the subject's words, the known errors), whatever the ticket holds. The known errors
are read through their own partial index (``kb_version_known_error_idx``), so a subject with a
common word ("password expired") does not make the page read every article holding it.
"""

from __future__ import annotations

from tickets.models import Ticket

from . import permissions, search
from .models import Article


def ticket_panel_context(user, ticket: Ticket) -> dict | None:
    if not permissions.can_read_internal(user):
        linked = list(
            permissions.live_versions(user)
            .filter(article__ticket_links__ticket=ticket)
            .only("pk", "article_id", "title", "summary")
            .order_by("title", "pk")
        )
        return {"staff": False, "linked": linked} if linked else None
    linked_articles = list(
        Article.objects.filter(ticket_links__ticket=ticket)
        .only("pk", "title", "status", "source_ticket_id")
        .order_by("ticket_links__linked_at", "pk")
    )
    can_link = permissions.can_link(user, ticket)
    return {
        "staff": True,
        "linked_articles": linked_articles,
        "known_errors": search.known_error_versions(user, ticket.subject),
        "can_link": can_link,
        "can_draft": can_link and permissions.can_write(user) and bool(ticket.resolution_note.strip()),
        "drafted": next((a for a in linked_articles if a.source_ticket_id == ticket.pk), None),
    }
