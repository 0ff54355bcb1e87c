"""The attention inbox: who is notified of what (from the history), and the pages and API over it."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories
from tickets import events, services
from tickets.events import record_events_bulk
from tickets.inbox import mentioned
from tickets.models import Notification, Tier

pytestmark = pytest.mark.django_db


def kinds_of(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def desk():
    requester = factories.make_requester(username="rita")
    first, colleague = factories.make_agent(1, username="alex"), factories.make_agent(1, username="bea")
    second = factories.make_agent(2, username="tom")
    manager = factories.make_manager(username="maya")
    ticket = factories.make_ticket(requester=requester)
    return {"requester": requester, "alex": first, "bea": colleague, "tom": second, "maya": manager, "ticket": ticket}


def test_an_assignment_notifies_the_assignee_but_taking_a_ticket_oneself_does_not(desk):
    ticket, alex, bea = desk["ticket"], desk["alex"], desk["bea"]
    services.assign_ticket(ticket_id=ticket.pk, by=alex, assignee=bea)
    assert kinds_of(bea) == ["assigned"]
    other = factories.make_ticket(requester=desk["requester"])
    services.claim_ticket(ticket_id=other.pk, by=alex)
    assert kinds_of(alex) == []
    note = Notification.objects.get(user=bea)
    assert note.text == f"{ticket.reference} assigned to you by {alex.display_name}"


def test_the_requesters_reply_notifies_the_assignee_an_agents_reply_nobody(desk):
    ticket, alex, requester = desk["ticket"], desk["alex"], desk["requester"]
    services.claim_ticket(ticket_id=ticket.pk, by=alex)
    services.add_reply(ticket_id=ticket.pk, by=alex, body="Could you restart it?")
    assert kinds_of(alex) == [] and kinds_of(requester) == []
    services.add_reply(ticket_id=ticket.pk, by=requester, body="Restarted, still broken.")
    assert kinds_of(alex) == ["reply"]


def test_a_mention_in_a_note_reaches_staff_who_may_work_the_ticket_only(desk):
    ticket, alex = desk["ticket"], desk["alex"]
    # bea works tier 1 (the ticket's tier); tom is tier 2; rita is the requester; alex wrote it.
    services.add_note(ticket_id=ticket.pk, by=alex, body="@bea can you look? cc @tom @rita @alex @nobody.")
    assert kinds_of(desk["bea"]) == ["mention"]
    assert kinds_of(desk["tom"]) == kinds_of(desk["requester"]) == []
    assert kinds_of(alex) == []
    assert mentioned("mail bea@example.com, ask @bea. and @t.om") == {"bea", "t.om"}


def test_escalation_notifies_the_new_tiers_agents_and_manager_alerts_the_managers(desk):
    ticket, alex = desk["ticket"], desk["alex"]
    services.escalate_ticket(ticket_id=ticket.pk, by=alex, reason="Needs a technician.", to_tier=Tier.T2)
    assert kinds_of(desk["tom"]) == ["escalated"]
    assert kinds_of(desk["bea"]) == []
    services.notify_managers(ticket_id=ticket.pk, by=desk["tom"], reason="Whole floor affected.")
    assert kinds_of(desk["maya"]) == ["managers"]


def test_sla_crossings_of_a_batch_notify_the_assignee(desk):
    ticket, alex = desk["ticket"], desk["alex"]
    services.claim_ticket(ticket_id=ticket.pk, by=alex)
    now = timezone.now()
    line = {"metric": "resolution", "scope": 0, "cycle": 1, "due": now, "at": now}
    record_events_bulk(
        [
            events.sla_crossed(ticket.pk, crossing="warning", **line),
            events.sla_crossed(ticket.pk, crossing="breached", **line),
        ]
    )
    assert kinds_of(alex) == ["sla_warning", "sla_breach"]


def test_a_refused_change_leaves_no_notification(desk):
    ticket, bea = desk["ticket"], desk["bea"]
    with pytest.raises(ValidationError):
        services.add_reply(ticket_id=ticket.pk, by=desk["requester"], body="   ")
    services.assign_ticket(ticket_id=ticket.pk, by=desk["alex"], assignee=bea)
    assert Notification.objects.count() == 1


# --------------------------------------------------------------------------- pages


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_inbox_page_shows_ones_own_unread_then_all_with_a_fixed_number_of_queries(desk, django_assert_num_queries):
    ticket, alex, bea = desk["ticket"], desk["alex"], desk["bea"]
    services.assign_ticket(ticket_id=ticket.pk, by=alex, assignee=bea)
    client = _signed_in(bea)
    page = client.get("/inbox/").content.decode()
    assert f"{ticket.reference} assigned to you" in page
    assert "Mark all as read" in page
    # alex sees none of bea's.
    assert "assigned to you" not in _signed_in(alex).get("/inbox/").content.decode()
    for n in range(5):
        services.add_note(ticket_id=ticket.pk, by=alex, body=f"@bea look {n}")
    with django_assert_num_queries(6):  # session, user, roles, the sidebar's saved views, the list, the unread count
        client.get("/inbox/?show=all")
    with django_assert_num_queries(3):
        assert ">6<" in client.get("/inbox/bell/").content.decode()


def test_opening_marks_read_and_goes_to_the_ticket_and_nobody_opens_anothers(desk):
    ticket, alex, bea = desk["ticket"], desk["alex"], desk["bea"]
    services.assign_ticket(ticket_id=ticket.pk, by=alex, assignee=bea)
    note = Notification.objects.get(user=bea)
    assert _signed_in(alex).post(f"/inbox/{note.pk}/open/").status_code == 404
    assert _signed_in(alex).post(f"/inbox/{note.pk}/read/").status_code == 404
    answer = _signed_in(bea).post(f"/inbox/{note.pk}/open/")
    assert answer.status_code == 302 and answer["Location"] == f"/tickets/{ticket.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert _signed_in(bea).get(f"/inbox/{note.pk}/open/").status_code == 405


def test_mark_all_read_marks_only_ones_own(desk):
    ticket, alex, bea = desk["ticket"], desk["alex"], desk["bea"]
    services.assign_ticket(ticket_id=ticket.pk, by=alex, assignee=bea)
    services.add_note(ticket_id=ticket.pk, by=bea, body="@alex please check")
    answer = _signed_in(bea).post("/inbox/read-all/", follow=True)
    assert "Marked 1 notification as read." in answer.content.decode()
    assert not Notification.objects.filter(user=bea, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=alex, read_at__isnull=True).count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for path in ("/inbox/", "/inbox/bell/"):
        assert client.get(path)["Location"].startswith("/accounts/login/")
    assert client.post("/inbox/read-all/")["Location"].startswith("/accounts/login/")


# --------------------------------------------------------------------------- API


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_lists_marks_and_hides_other_peoples_notifications(desk):
    ticket, alex, bea = desk["ticket"], desk["alex"], desk["bea"]
    services.assign_ticket(ticket_id=ticket.pk, by=alex, assignee=bea)
    services.add_note(ticket_id=ticket.pk, by=alex, body="@bea and one more")
    listed = _api(bea).get("/api/notifications/?unread=1").json()
    assert [n["kind"] for n in listed["results"]] == ["mention", "assigned"]
    assert listed["results"][0]["reference"] == ticket.reference
    first = listed["results"][0]["id"]
    assert _api(alex).get(f"/api/notifications/{first}/").status_code == 404
    assert _api(alex).post(f"/api/notifications/{first}/read/").status_code == 404
    assert _api(alex).get("/api/notifications/").json()["results"] == []
    assert _api(bea).post(f"/api/notifications/{first}/read/").json() == {"marked": 1}
    assert [n["kind"] for n in _api(bea).get("/api/notifications/?unread=true").json()["results"]] == ["assigned"]
    assert _api(bea).post("/api/notifications/read-all/").json() == {"marked": 1}
    assert APIClient().get("/api/notifications/").status_code == 401
    assert _api(bea).get("/api/notifications/?page_size=0").status_code == 400
