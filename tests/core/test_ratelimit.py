"""Rate limits (helpdesk.core.ratelimit): ticket creation, replies, KB feedback, survey answers and
password-reset requests, counted per person and per client address in the real Redis, and in
PostgreSQL while the limiter's Redis is stopped or hung.

Each refusal is checked for its answer (API: 429, ``Retry-After``, JSON ``detail``; pages: 429
with the message and what was typed) and for what it did not write (no ticket, message, vote,
answer, outbox row or mail).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.checks import Error
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from helpdesk.core import ratelimit
from helpdesk.core.models import OutboxMessage, RateCounter
from helpdesk.embedded import redis_cache_url, start_redis, stop_redis
from knowledgebase.models import Vote
from reports import surveys
from reports.models import Survey
from tests import factories
from tests.knowledgebase.conftest import publish
from tickets import services
from tickets.mail.inbound import receive_email
from tickets.models import InboundMail, Ticket, TicketMessage

pytestmark = pytest.mark.django_db

NEW_TICKET = {"subject": "Monitor flickers", "description": "Since this morning.", "impact": "low", "urgency": "low"}


def limits(settings, action: str, **scopes: str) -> None:
    """Set the limits of one action for this test (the others keep their defaults)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, action: scopes}


def api(user, address: str = "127.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.force_authenticate(user)
    return client


def received(ticket_ids) -> int:
    """Acknowledgements ("received" notifications) queued for these tickets."""
    return OutboxMessage.objects.filter(kwargs__event="received", kwargs__ticket_id__in=list(ticket_ids)).count()


def assert_api_refused(response, noun: str, window: int) -> None:
    assert response.status_code == 429, response.content
    assert 1 <= int(response["Retry-After"]) <= window
    assert response["Content-Type"] == "application/json"
    assert f"Too many {noun}" in response.json()["detail"]


def assert_page_refused(response, noun: str, *typed: str) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    page = response.content.decode()
    assert f"Too many {noun} in a short time" in page
    for text in typed:
        assert text in page


# --------------------------------------------------------------------------- ticket creation


def test_api_creation_past_the_limit_is_429_and_writes_nothing(settings, requester):
    limits(settings, "create_ticket", user="2/10m", staff="100/10m", address="100/10m")
    client = api(requester)
    assert [client.post("/api/tickets/", NEW_TICKET, format="json").status_code for _ in range(2)] == [201, 201]
    tickets, outbox = Ticket.objects.count(), OutboxMessage.objects.count()
    assert_api_refused(client.post("/api/tickets/", NEW_TICKET, format="json"), "new tickets", 600)
    assert (Ticket.objects.count(), OutboxMessage.objects.count()) == (tickets, outbox)
    # Another requester is not affected.
    assert api(factories.make_requester()).post("/api/tickets/", NEW_TICKET, format="json").status_code == 201


def test_portal_form_past_the_limit_says_when_to_retry_and_keeps_the_input(settings, client, requester):
    limits(settings, "create_ticket", user="1/10m", staff="100/10m", address="100/10m")
    client.force_login(requester)
    form = {"subject": "Laptop fan is loud", "description": "It roars all day.", "impact": "low", "urgency": "low"}
    assert client.post("/portal/new/", form).status_code == 302
    tickets, outbox = Ticket.objects.count(), OutboxMessage.objects.count()
    response = client.post("/portal/new/", {**form, "subject": "Second one typed"})
    # A refused form goes back to a URL that can be reloaded (the form itself), saying when to retry.
    assert response.status_code == 303
    assert int(response["Retry-After"]) >= 1
    page = client.get(response["Location"]).content.decode()
    assert "Too many new tickets in a short time" in page
    assert "Second one typed" in page and "It roars all day." in page
    assert (Ticket.objects.count(), OutboxMessage.objects.count()) == (tickets, outbox)


def test_one_address_is_limited_across_accounts_but_staff_are_counted_by_person(settings):
    limits(settings, "create_ticket", user="10/10m", staff="3/10m", address="2/10m")
    first, second, third = (factories.make_requester() for _ in range(3))
    assert api(first, "203.0.113.7").post("/api/tickets/", NEW_TICKET, format="json").status_code == 201
    assert api(second, "203.0.113.7").post("/api/tickets/", NEW_TICKET, format="json").status_code == 201
    before = Ticket.objects.count()
    assert_api_refused(api(third, "203.0.113.7").post("/api/tickets/", NEW_TICKET, format="json"), "new tickets", 600)
    assert Ticket.objects.count() == before
    # Another address is not affected.
    assert api(third, "198.51.100.1").post("/api/tickets/", NEW_TICKET, format="json").status_code == 201
    # An agent behind the same (exhausted) address logs calls up to the staff limit.
    agent = factories.make_agent(1)
    body = {**NEW_TICKET, "requester": first.pk}
    statuses = [api(agent, "203.0.113.7").post("/api/tickets/", body, format="json").status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]


def test_the_client_address_behind_a_proxy_is_the_forwarded_one(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    limits(settings, "create_ticket", user="10/10m", staff="10/10m", address="1/10m")
    proxy = "10.0.0.2"

    def create(forwarded_for: str) -> int:
        client = api(factories.make_requester(), proxy)
        return client.post("/api/tickets/", NEW_TICKET, format="json", HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    # What the client puts in front of the header (left of what our proxy added) changes nothing.
    assert [create("203.0.113.7"), create("203.0.113.8"), create("6.6.6.6, 203.0.113.7")] == [201, 201, 429]


def test_mail_past_the_limit_is_held_without_an_acknowledgement(settings):
    settings.HELPDESK_MAIL_ADDRESS = "helpdesk@helpdesk.example"
    limits(settings, "create_ticket", user="2/10m", staff="100/10m", address="100/10m")

    def message(n: int) -> bytes:
        return (
            f"From: flood@customer.example\r\nTo: helpdesk@helpdesk.example\r\nSubject: Help {n}\r\n"
            f"Message-ID: <flood-{n}@customer.example>\r\nContent-Type: text/plain\r\n\r\nPlease help ({n}).\r\n"
        ).encode()

    mails = [receive_email(message(n), source="test") for n in range(4)]
    assert [m.status for m in mails] == ["processed", "processed", "held", "held"]
    assert "Too many new tickets" in mails[2].reason
    created = Ticket.objects.filter(requester__email="flood@customer.example")
    assert created.count() == 2
    assert received(created.values_list("pk", flat=True)) == 2
    assert OutboxMessage.objects.filter(kwargs__event="received").count() == 2  # none for the held ones
    assert InboundMail.objects.filter(status=InboundMail.Status.HELD).count() == 2


def test_services_called_outside_a_request_or_mail_are_not_counted(settings, requester):
    """Commands, tasks and seeding call the services without a limiter context."""
    limits(settings, "create_ticket", user="1/10m", staff="1/10m", address="1/10m")
    for _ in range(3):
        factories.make_ticket(requester)
    assert Ticket.objects.filter(requester=requester).count() == 3


# --------------------------------------------------------------------------- replies


def test_replies_past_the_limit_on_the_page_and_in_the_api(settings, client, requester):
    limits(settings, "reply", user="2/10m", staff="100/10m", address="100/10m")
    ticket = factories.make_ticket(requester)
    client.force_login(requester)
    assert client.post(f"/tickets/{ticket.pk}/reply/", {"body": "First"}).status_code == 302
    assert (
        api(requester).post(f"/api/tickets/{ticket.pk}/messages/", {"body": "Second"}, format="json").status_code == 201
    )
    messages, outbox = TicketMessage.objects.count(), OutboxMessage.objects.count()
    # A refused ticket action goes back to the ticket page (reloadable), which shows the message
    # and the reply as typed.
    response = client.post(f"/tickets/{ticket.pk}/reply/", {"body": "Third, typed with care"})
    assert response.status_code == 303 and int(response["Retry-After"]) >= 1
    page = client.get(response["Location"]).content.decode()
    assert "Too many replies in a short time" in page and "Third, typed with care" in page
    response = api(requester).post(f"/api/tickets/{ticket.pk}/messages/", {"body": "Fourth"}, format="json")
    assert_api_refused(response, "replies", 600)
    assert (TicketMessage.objects.count(), OutboxMessage.objects.count()) == (messages, outbox)


def test_a_mailed_reply_past_the_limit_is_held(settings, requester):
    settings.HELPDESK_MAIL_ADDRESS = "helpdesk@helpdesk.example"
    limits(settings, "reply", user="1/10m", staff="100/10m", address="100/10m")
    ticket = factories.make_ticket(requester)

    def reply(n: int) -> InboundMail:
        raw = (
            f"From: {requester.email}\r\nTo: helpdesk@helpdesk.example\r\nSubject: Re: [{ticket.reference}] x\r\n"
            f"Message-ID: <reply-{n}@customer.example>\r\nContent-Type: text/plain\r\n\r\nStill broken ({n}).\r\n"
        ).encode()
        return receive_email(raw, source="test")

    assert reply(1).status == InboundMail.Status.PROCESSED
    held = reply(2)
    assert held.status == InboundMail.Status.HELD and "Too many replies" in held.reason
    assert ticket.messages.count() == 1


# --------------------------------------------------------------------------- KB feedback and surveys


def test_kb_feedback_past_the_limit_on_the_page_and_in_the_api(settings, client, requester):
    limits(settings, "kb_feedback", user="2/10m", staff="100/10m", address="100/10m")
    article = publish(factories.make_agent(1), factories.make_manager())
    client.force_login(requester)
    url = f"/kb/articles/{article.pk}/vote/"
    assert client.post(url, {"helpful": "yes"}).status_code == 302
    assert (
        api(requester).post(f"/api/kb/articles/{article.pk}/vote/", {"helpful": True}, format="json").status_code == 200
    )
    response = client.post(url, {"helpful": "no", "comment": "Did not help at all"})
    assert_page_refused(response, "feedback answers", "Did not help at all")
    response = api(requester).post(f"/api/kb/articles/{article.pk}/vote/", {"helpful": False}, format="json")
    assert_api_refused(response, "feedback answers", 600)
    vote = Vote.objects.get(article=article, user=requester)
    assert (vote.helpful, vote.comment) == (True, "")
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 0)


def test_survey_answers_past_the_limit_by_link(settings, client):
    limits(settings, "survey_answer", user="2/10m", staff="2/10m", address="100/10m")
    requester, agent = factories.make_requester(), factories.make_agent(1)
    ticket = factories.make_ticket(requester)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Done.")
    survey = Survey.objects.get(ticket=ticket)
    url = f"/survey/{surveys.survey_token(survey)}/"
    assert [client.post(url, {"score": s}).status_code for s in ("4", "5")] == [200, 200]
    response = client.post(url, {"score": "1", "comment": "Changed my mind entirely"})
    assert_page_refused(response, "survey answers", "Changed my mind entirely")
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (5, "")


# --------------------------------------------------------------------------- password reset


def test_password_reset_requests_are_limited_per_address_asked_for_and_per_client(settings, requester):
    limits(settings, "password_reset", user="2/h", address="4/h")
    client = Client(REMOTE_ADDR="192.0.2.10")
    url = "/accounts/password_reset/"
    assert [client.post(url, {"email": requester.email}).status_code for _ in range(2)] == [302, 302]
    assert len(mail.outbox) == 2
    response = client.post(url, {"email": requester.email.upper()})  # the same address, however written
    assert_page_refused(response, "password reset requests", requester.email.upper())
    assert len(mail.outbox) == 2
    # An unknown address is counted like a known one (the answer tells nothing); the refused
    # attempt above counted for the client's address too, so the next one is its fourth.
    assert client.post(url, {"email": "nobody@example.com"}).status_code == 302
    assert_page_refused(client.post(url, {"email": "other@example.com"}), "password reset requests")
    assert len(mail.outbox) == 2


# --------------------------------------------------------------------------- concurrency and Redis faults


def burst(user, count: int) -> list[int]:
    """``count`` ticket creations by ``user`` through the API at once, each thread on its own connection."""
    start = threading.Barrier(count)

    def create(_):
        try:
            start.wait(10)
            return api(user).post("/api/tickets/", NEW_TICKET, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(create, range(count)))


@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_through_redis_gets_exactly_the_limit(settings):
    from sla.defaults import ensure_defaults

    ensure_defaults()  # the SLA policy (transactional tests before this one emptied the tables)
    limits(settings, "create_ticket", user="5/10m", staff="100/10m", address="100/10m")
    requester = factories.make_requester()
    statuses = burst(requester, 16)
    assert sorted(statuses) == [201] * 5 + [429] * 11
    assert Ticket.objects.filter(requester=requester).count() == 5
    assert received(Ticket.objects.filter(requester=requester).values_list("pk", flat=True)) == 5
    assert not RateCounter.objects.exists()  # Redis counted; PostgreSQL was not needed


@pytest.fixture
def own_redis(settings, tmp_path):
    """The limiter on a Redis of its own, which the test may stop or freeze without disturbing others."""
    root = tmp_path / "limiter-redis"
    url = start_redis(root).url
    settings.RATE_LIMIT_REDIS_URL = redis_cache_url(url, db=0)
    settings.RATE_LIMIT_REDIS_RETRY_SECONDS = 60
    pid = int((root / "redis" / "redis.pid").read_text())
    yield root, pid
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)
    stop_redis(root)


@pytest.mark.django_db(transaction=True)
def test_with_redis_stopped_postgresql_limits_a_burst_exactly(settings, own_redis):
    from sla.defaults import ensure_defaults

    ensure_defaults()
    root, _ = own_redis
    stop_redis(root)
    limits(settings, "create_ticket", user="4/10m", staff="100/10m", address="100/10m")
    requester = factories.make_requester()
    statuses = burst(requester, 10)
    assert sorted(statuses) == [201] * 4 + [429] * 6
    assert Ticket.objects.filter(requester=requester).count() == 4
    counter = RateCounter.objects.get(key=f"create_ticket:user:user:{requester.pk}")
    assert counter.count == 10  # refused attempts count too


def test_with_redis_hung_requests_answer_quickly_and_are_still_limited(settings, own_redis, requester):
    _, pid = own_redis
    limits(settings, "create_ticket", user="1/10m", staff="100/10m", address="100/10m")
    client = api(requester)
    assert client.post("/api/tickets/", NEW_TICKET, format="json").status_code == 201  # counted in Redis
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    first = client.post("/api/tickets/", NEW_TICKET, format="json")  # waits the socket timeout once
    second = client.post("/api/tickets/", NEW_TICKET, format="json")  # straight to PostgreSQL
    elapsed = time.monotonic() - started
    # PostgreSQL starts its own count for the window: one more ticket, then refused.
    assert (first.status_code, second.status_code) == (201, 429)
    assert elapsed < 2, elapsed
    assert Ticket.objects.filter(requester=requester).count() == 2


def test_counting_goes_back_to_redis_once_it_answers_again(settings, own_redis, requester):
    root, _ = own_redis
    settings.RATE_LIMIT_REDIS_RETRY_SECONDS = 0  # try Redis again at every count
    limits(settings, "create_ticket", user="10/10m", staff="100/10m", address="100/10m")
    client = api(requester)
    stop_redis(root)
    assert client.post("/api/tickets/", NEW_TICKET, format="json").status_code == 201
    per_user = RateCounter.objects.filter(key=f"create_ticket:user:user:{requester.pk}")
    assert per_user.get().count == 1
    start_redis(root)
    assert client.post("/api/tickets/", NEW_TICKET, format="json").status_code == 201
    assert per_user.get().count == 1  # counted in Redis, not in PostgreSQL


def test_the_fallback_purges_ended_windows(settings, own_redis, requester):
    root, _ = own_redis
    stop_redis(root)
    limits(settings, "create_ticket", user="5/1", staff="100/10m", address="100/10m")
    client = api(requester)
    assert client.post("/api/tickets/", NEW_TICKET, format="json").status_code == 201
    per_user = RateCounter.objects.filter(key=f"create_ticket:user:user:{requester.pk}")
    ended = per_user.get()
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3)):  # past the window and its margin
        assert client.post("/api/tickets/", NEW_TICKET, format="json").status_code == 201
    assert not RateCounter.objects.filter(pk=ended.pk).exists()
    assert per_user.get().count == 1  # the new window's


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10/600", (10, 600)), ("10/10m", (10, 600)), ("3/h", (3, 3600)), (" 5 / 2d ", (5, 172800))],
)
def test_rates_are_written_as_count_per_window(text, expected):
    rate = ratelimit.parse_rate(text)
    assert (rate.count, rate.seconds) == expected


def test_a_mistyped_limit_is_reported_by_the_system_check(settings):
    limits(settings, "reply", user="ten a minute")
    errors = ratelimit.check_rate_limits()
    assert [(type(e), e.obj) for e in errors] == [(Error, "RATE_LIMIT_REPLY_USER")]
    assert re.search("Not a rate limit", errors[0].msg)
