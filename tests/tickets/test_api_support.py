"""Shared pieces of the ticket API tests (no tests here): the people, the tickets, snapshots."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from helpdesk.core.models import OutboxMessage
from tests import factories
from tickets import services
from tickets.models import Attachment, Ticket, TicketEvent, TicketMessage, Tier

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

ROLES = ["requester_a", "requester_b", "agent_t1", "agent_t3", "vendor_x", "vendor_y", "manager", "anonymous"]


@dataclass
class Scene:
    """One ticket with a public reply, an internal note, and a file on each."""

    ticket: Ticket
    public_message: TicketMessage
    note: TicketMessage
    public_file: Attachment
    note_file: Attachment


@dataclass
class World:
    people: dict
    desk: Scene  # tier 1, requested by A
    vendor: Scene  # tier 4 with vendor X, requested by A


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def upload(name: str = "log.txt", content: bytes = b"some log lines\n", content_type: str = "text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def _scene(ticket: Ticket, worker, note_body: str) -> Scene:
    public = services.add_reply(ticket_id=ticket.pk, by=worker, body="Have you tried turning it off and on?")
    note = services.add_note(ticket_id=ticket.pk, by=worker, body=note_body)
    public_file = services.store_attachments(ticket=ticket, by=ticket.requester, uploads=[upload("public.txt")])[0]
    note_file = services.store_attachments(ticket=ticket, by=worker, uploads=[upload("secret.txt")], message=note)[0]
    ticket.refresh_from_db()
    return Scene(ticket, public, note, public_file, note_file)


def build_world() -> World:
    vendor_x = factories.VendorFactory(name="Vendor X")
    vendor_y = factories.VendorFactory(name="Vendor Y")
    people = {
        "requester_a": factories.make_requester(username="rita"),
        "requester_b": factories.make_requester(username="bob"),
        "agent_t1": factories.make_agent(1, username="tier1"),
        "agent_t3": factories.make_agent(3, username="tier3"),
        "vendor_x": factories.make_vendor_contact(vendor_x, username="vix"),
        "vendor_y": factories.make_vendor_contact(vendor_y, username="vyy"),
        "manager": factories.make_manager(username="maya"),
        "anonymous": None,
    }
    requester = people["requester_a"]
    desk = _scene(
        factories.make_ticket(requester, subject="Printer jams"), people["agent_t1"], "INTERNAL: user is a VIP"
    )
    vendor_ticket = factories.make_ticket(requester, subject="Disk array fails")
    services.escalate_ticket(
        ticket_id=vendor_ticket.pk,
        by=people["manager"],
        reason="INTERNAL: needs the vendor",
        to_tier=Tier.T4,
        vendor=vendor_x,
        vendor_reference="X-42",
    )
    vendor = _scene(vendor_ticket, people["manager"], "INTERNAL: contract expires soon")
    return World(people, desk, vendor)


def snapshot(ticket: Ticket) -> dict:
    """Everything a refused request must leave as it was."""
    row = Ticket.objects.filter(pk=ticket.pk).values().get()
    return {
        "ticket": row,
        "watchers": list(ticket.watchers.values_list("pk", flat=True)),
        "collaborators": list(ticket.collaborators.values_list("pk", flat=True)),
        "messages": TicketMessage.objects.count(),
        "events": TicketEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "tickets": Ticket.objects.count(),
        "outbox": OutboxMessage.objects.count(),
    }


def media_files(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
