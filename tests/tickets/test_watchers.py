"""Who may be added as a watcher: one rule (``permissions.can_add_as_watcher``) for page, API and mail.

The ticket sits at tier 4 with vendor V, so "a contact of this vendor" is someone who may see it.
Every adder role is tried against every kind of target through the page and the API, and every
kind of sender writes to the ticket's reply address by mail. A requester's answer is the same
sentence whatever the address, so the form cannot be used to find out who has an account.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories
from tests.mail.conftest import HELPDESK, mail_settings  # noqa: F401 - the mail tests' mailbox, autouse
from tickets import permissions, services
from tickets.mail.addresses import reply_address
from tickets.mail.inbound import receive_email
from tickets.models import EventKind, InboundMail, Ticket, Tier
from tickets.notifications import notifications_for
from tickets.services.watchers import NOBODY, requester_answer

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def world(db):
    vendor, other_vendor = factories.VendorFactory(), factories.VendorFactory()
    requester = factories.make_requester(email="rita@acme.example")
    people = {
        "requester": requester,
        "colleague": factories.make_requester(email="carl@acme.example"),
        "other requester": factories.make_requester(email="otto@elsewhere.example"),
        "this vendor": factories.make_vendor_contact(vendor, email="vera@vendor-v.example"),
        "other vendor": factories.make_vendor_contact(other_vendor, email="olga@vendor-w.example"),
        "agent": factories.make_agent(1, email="alex@acme.example"),
        "manager": factories.make_manager(email="maya@acme.example"),
        "watcher": factories.make_requester(email="wanda@acme.example"),
    }
    ticket = factories.make_ticket(requester=requester, tier=Tier.T4, vendor=vendor, vendor_reference="V-1")
    Ticket.watchers.through.objects.create(ticket=ticket, user=people["watcher"])
    return {**people, "ticket": ticket}


TARGETS = ["colleague", "other requester", "this vendor", "other vendor", "agent", "unknown"]
UNKNOWN = "nobody@acme.example"


def _address(world, target: str) -> str:
    return UNKNOWN if target == "unknown" else world[target].email


def _watchers(ticket) -> set[str]:
    return set(ticket.watchers.values_list("email", flat=True))


# What the rule lets each adder do with each target (True: added; False: refused).
ALLOWED = {
    "requester": {
        "colleague": True,
        "other requester": False,  # not a colleague
        "this vendor": False,  # requesters never add vendor contacts
        "other vendor": False,
        "agent": True,  # same company domain
        "unknown": False,
    },
    "manager": {
        "colleague": True,
        "other requester": True,
        "this vendor": True,  # the ticket is at their vendor's tier 4
        "other vendor": False,  # would open a ticket of vendor V to vendor W
        "agent": True,
        "unknown": False,
    },
}


def _page(world, adder: str, address: str):
    client = Client()
    client.force_login(world[adder])
    response = client.post(f"/tickets/{world['ticket'].pk}/watchers/", {"who": address})
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    return response.status_code, " ".join(texts)


def _api(world, adder: str, address: str):
    client = APIClient()
    client.force_authenticate(world[adder])
    response = client.post(f"/api/tickets/{world['ticket'].pk}/watchers/", {"who": address}, format="json")
    return response.status_code, response.json().get("detail", "")


CHANNELS = {"page": _page, "api": _api}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("target", TARGETS)
def test_a_requester_adds_colleagues_only_and_every_answer_is_the_same(world, channel, target):
    ticket = world["ticket"]
    address = _address(world, target)
    before = _watchers(ticket)
    status, text = CHANNELS[channel](world, "requester", address)
    assert status == (302 if channel == "page" else 200)
    assert text == requester_answer(address, ticket)  # known, unknown, refused: one sentence
    added = _watchers(ticket) - before
    assert added == ({address} if ALLOWED["requester"][target] else set())
    assert ticket.events.filter(kind=EventKind.WATCHER_ADDED).count() == (1 if added else 0)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("target", TARGETS)
def test_staff_add_anyone_allowed_and_are_told_plainly_when_not(world, channel, target):
    ticket = world["ticket"]
    address = _address(world, target)
    before = _watchers(ticket)
    status, text = CHANNELS[channel](world, "manager", address)
    if ALLOWED["manager"][target]:
        assert status == (302 if channel == "page" else 200)
        assert "now follows" in text
        assert _watchers(ticket) - before == {address}
    else:
        # The page sends a refused action back to the ticket page with the message; the API says 400.
        assert status == (303 if channel == "page" else 400)
        assert (NOBODY if target == "unknown" else "cannot follow this ticket") in text
        assert _watchers(ticket) == before


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("adder", ["watcher", "this vendor"])
def test_watchers_and_vendors_add_nobody(world, channel, adder):
    before = _watchers(world["ticket"])
    status, _ = CHANNELS[channel](world, adder, world["colleague"].email)
    assert status == 403
    assert _watchers(world["ticket"]) == before


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("adder", ["requester", "manager"])
def test_a_stranger_cannot_even_learn_the_ticket_exists(world, channel, adder):
    world[adder] = factories.make_requester(email="eve@acme.example")  # sees nothing of it
    status, _ = CHANNELS[channel](world, adder, world["colleague"].email)
    assert status == 404


def test_the_requester_already_follows_their_ticket(world):
    status, text = _api(world, "manager", world["requester"].email)
    assert status == 400 and "already follows" in text


def test_a_requester_must_type_an_address_and_usernames_tell_nothing(world):
    status, text = _api(world, "requester", world["colleague"].username)
    assert status == 400 and text == "Enter your colleague's e-mail address."
    assert not world["ticket"].watchers.filter(pk=world["colleague"].pk).exists()


# --------------------------------------------------------------------------- mail to the reply address


def _mail_from(sender: str, ticket) -> InboundMail:
    raw = (
        f"From: {sender}\r\nTo: {reply_address(ticket.pk)}\r\nSubject: Re: [{ticket.reference}]\r\n"
        f"Message-ID: <{timezone.now().timestamp()}.{sender}@test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nSame problem here.\r\n"
    ).encode()
    return receive_email(raw, source="test")


# Mail to the reply address is an invitation by the requester: the requester's column of ALLOWED,
# except that an unknown sender at the requester's domain is a colleague without an account yet.
MAIL_JOINS = {**ALLOWED["requester"], "unknown": True}


@pytest.mark.parametrize("target", [*TARGETS, "stranger"])
def test_writing_to_the_reply_address_joins_by_the_same_rule(world, target):
    ticket = world["ticket"]
    address = "mallory@elsewhere.example" if target == "stranger" else _address(world, target)
    mail = _mail_from(address, ticket)
    if target == "this vendor":  # already a participant of a tier-4 ticket of their vendor
        assert mail.status == InboundMail.Status.PROCESSED
        assert not ticket.watchers.filter(email=address).exists()
        return
    if MAIL_JOINS.get(target, False):
        assert mail.status == InboundMail.Status.PROCESSED, mail.reason
        assert mail.ticket_message.author.email == address
        assert ticket.watchers.filter(email=address).exists()
        event = ticket.events.get(kind=EventKind.WATCHER_ADDED, data__via="email reply address")
        assert event.actor.email == address
    else:
        assert mail.status == InboundMail.Status.HELD
        assert "may not follow it" in mail.reason
        assert not ticket.messages.filter(author__email=address).exists()
        assert not ticket.watchers.filter(email=address).exists()
        if target == "stranger":
            assert not User.objects.filter(email=address).exists()  # no account made for a refusal


# --------------------------------------------------------------------------- watching never opens a ticket to a vendor


def test_a_vendor_contact_left_watching_loses_the_ticket_when_it_leaves_their_tier(world):
    ticket, vera = world["ticket"], world["this vendor"]
    services.add_watcher(ticket_id=ticket.pk, by=world["manager"], watcher=vera)
    assert permissions.visible_tickets(vera).filter(pk=ticket.pk).exists()
    Ticket.objects.filter(pk=ticket.pk).update(tier=Tier.T2, vendor=None, vendor_reference="")
    ticket.refresh_from_db()
    vera = User.objects.get(pk=vera.pk)  # fresh roles
    assert not permissions.visible_tickets(vera).filter(pk=ticket.pk).exists()
    assert not permissions.can_reply(vera, ticket)
    client = APIClient()
    client.force_authenticate(vera)
    assert client.get(f"/api/tickets/{ticket.pk}/").status_code == 404
    assert client.get(f"/api/tickets/{ticket.pk}/attachments/").status_code == 404
    # Nor is she mailed about it, nor can she post to it by mail.
    recipients = {r.email for n in notifications_for(ticket, "status", {}, "test") for r in n.recipients}
    assert vera.email not in recipients and world["watcher"].email in recipients
    django_mail.outbox.clear()
    assert _mail_from(vera.email, ticket).status == InboundMail.Status.HELD


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_tier_one_agent_adds_outsiders_but_no_vendor_to_a_ticket_of_their_tier(world, channel):
    ticket = factories.make_ticket(requester=world["requester"])  # tier 1: no vendor sees it
    world["ticket"] = ticket
    for target, added in (("other requester", True), ("this vendor", False), ("other vendor", False)):
        status, text = CHANNELS[channel](world, "agent", world[target].email)
        assert ticket.watchers.filter(email=world[target].email).exists() == added, (target, status, text)
        if not added:
            assert "cannot follow this ticket" in text
