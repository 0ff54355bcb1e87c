"""Demo content for ``make run``: categories, tier macros and a few tickets in every state."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from ..models import Category, Macro, Status, Ticket, Tier, Vendor
from .claiming import claim_ticket
from .conversation import add_note, add_reply
from .creating import create_ticket
from .status import change_status, resolve_ticket
from .tiers import escalate_ticket

DEMO_CATEGORIES = [
    # name, parent, tier new tickets land in
    ("Hardware", None, Tier.T1),
    ("Printers", "Hardware", Tier.T1),
    ("Laptops", "Hardware", Tier.T1),
    ("Accounts & passwords", None, Tier.T1),
    ("Network & VPN", None, Tier.T2),
    ("Servers & databases", None, Tier.T3),
]

DEMO_MACROS = [
    (
        Tier.T1,
        "Ask for details",
        "Hello {requester},\n\nthanks for {reference}. Could you tell us when it "
        "started and send a screenshot of the error?\n\n{agent}",
    ),
    (
        Tier.T1,
        "Password reset done",
        "Hello {requester},\n\nyour password has been reset; you will be asked "
        "to choose a new one at the next log-in.\n\n{agent}",
    ),
    (
        Tier.T2,
        "Remote session",
        "Hello {requester},\n\nI would like to look at this together. When are you "
        "available for a short remote session?\n\n{agent}",
    ),
    (
        Tier.T3,
        "Maintenance window",
        "Hello {requester},\n\nthe fix for {reference} needs a short "
        "maintenance window; we will announce it a day ahead.\n\n{agent}",
    ),
]


def seed_demo_content() -> int:
    """Create the demo categories, tier macros and (only when there are no tickets yet) demo tickets.

    Idempotent. Returns the number of tickets created.
    """
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=["requester", "agent1", "agent2", "agent3", "vendor", "manager"]
        )
    }
    with transaction.atomic():
        categories: dict[str, Category] = {}
        for name, parent, tier in DEMO_CATEGORIES:
            categories[name], _ = Category.objects.get_or_create(
                name=name, parent=categories.get(parent) if parent else None, defaults={"route_tier": tier}
            )
        for tier, title, body in DEMO_MACROS:
            # "Ask for details" also sets the ticket waiting for the requester: a macro is text and field changes.
            status = Status.PENDING_REQUESTER if title == "Ask for details" else ""
            Macro.objects.get_or_create(tier=tier, name=title, owner=None, defaults={"body": body, "status": status})
        if Ticket.objects.exists() or len(users) < 6:
            return 0
        requester, agent1, agent2 = users["requester"], users["agent1"], users["agent2"]

        def new(
            subject: str, description: str, category: str, impact: str = "medium", urgency: str = "medium"
        ) -> Ticket:
            return create_ticket(
                requester=requester,
                by=requester,
                subject=subject,
                description=description,
                category=categories[category],
                impact=impact,
                urgency=urgency,
            )

        new("Printer on floor 3 jams", "It jams on every **second** page since Monday.", "Printers")
        waiting = new("Laptop fan very loud", "The fan runs at full speed even when idle.", "Laptops", "low")
        claim_ticket(ticket_id=waiting.pk, by=agent1)
        add_reply(ticket_id=waiting.pk, by=agent1, body="Which model is it? The label is underneath.")
        change_status(ticket_id=waiting.pk, by=agent1, status="pending_requester")
        vpn = new("VPN drops every 10 minutes", "Since the update the VPN disconnects.", "Network & VPN", "high")
        add_note(ticket_id=vpn.pk, by=agent2, body="Seen on three laptops with the new client.")
        escalated = new("Scanner driver crashes", "The scan app crashes when I scan.", "Hardware", "medium", "high")
        claim_ticket(ticket_id=escalated.pk, by=agent1)
        escalate_ticket(
            ticket_id=escalated.pk,
            by=agent1,
            reason="Reinstalled the driver and rebooted; the crash persists. Event log attached in the reply.",
        )
        resolved = new("Cannot log in to e-mail", "It says my password expired.", "Accounts & passwords", "high")
        claim_ticket(ticket_id=resolved.pk, by=agent1)
        resolve_ticket(ticket_id=resolved.pk, by=agent1, resolution_note="Password reset; user logged in.")
        vendor = Vendor.objects.filter(contacts__user=users["vendor"]).first()
        if vendor:
            broken = new("Docking station dead", "No power light, tried two sockets.", "Hardware", "medium", "high")
            escalate_ticket(
                ticket_id=broken.pk,
                by=users["manager"],
                to_tier=Tier.T4,
                vendor=vendor,
                vendor_reference="CX-10442",
                reason="Hardware fault under warranty; sent to the vendor.",
            )
        return Ticket.objects.count()
