"""Agent queue page and vendor list: who opens which queue, what each lists, filters, sort, search, paging.

Take-next and bulk actions are in test_queue_actions.py.
"""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tickets import services
from tickets.models import Category, Channel, Priority, Status, Ticket, Tier
from tickets.views.queues import OPTION_LISTS_SECONDS, SHARED_COUNTS_SECONDS, _shared_counts_key

ROLE_MAKERS = {
    "requester": factories.make_requester,
    "agent_t1": lambda: factories.make_agent(1),
    "agent_t3": lambda: factories.make_agent(3),
    "vendor": factories.make_vendor_contact,
    "manager": factories.make_manager,
}

QUEUE_ACCESS = {
    # role -> queues that open (200); every other queue of QUEUES is 403
    "requester": set(),
    "vendor": set(),
    "agent_t1": {"", "tier1", "mine", "unassigned", "swarm"},
    "agent_t3": {"", "tier3", "mine", "unassigned", "swarm"},
    "manager": {"", "tier1", "tier2", "tier3", "tier4", "mine", "unassigned", "swarm"},
}
QUEUES = ["", "tier1", "tier2", "tier3", "tier4", "mine", "unassigned", "swarm"]


def refs(response) -> list[str]:
    """Ticket references listed on the page, in order."""
    return [row.reference for row in response.context["rows"]]


def queue(client, **params):
    return client.get("/queues/", params)


@pytest.mark.parametrize("path", ["/queues/", "/queues/?queue=tier3", "/vendor/"])
def test_anonymous_is_sent_to_log_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("queue_key", QUEUES)
@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
def test_which_queues_open_per_role(client, db, role, queue_key):
    secret = factories.make_ticket(subject="Database cluster down", tier=Tier.T3)
    client.force_login(ROLE_MAKERS[role]())
    response = client.get("/queues/", {"queue": queue_key} if queue_key else {})
    allowed = queue_key in QUEUE_ACCESS[role]
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert secret.reference not in response.content.decode()


@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
def test_only_vendor_contacts_open_the_vendor_page(client, db, role):
    client.force_login(ROLE_MAKERS[role]())
    assert client.get("/vendor/").status_code == (200 if role == "vendor" else 403)


def test_tier_one_queue_lists_tier_one_tickets_only(client, db):
    agent = factories.make_agent(1)
    mine = factories.make_ticket(subject="Printer jams")
    other = factories.make_ticket(subject="Database cluster down", tier=Tier.T3)
    client.force_login(agent)
    for params in ({}, {"queue": "tier1"}, {"queue": "unassigned"}):
        response = queue(client, **params)
        assert response.status_code == 200
        assert refs(response) == [mine.reference]
        page = response.content.decode()
        assert "Printer jams" in page
        assert other.reference not in page and "Database cluster down" not in page
    assert f'href="/tickets/{mine.pk}/"' in page


def test_default_queue_is_the_agents_lowest_tier(client, db):
    t2 = factories.make_ticket(tier=Tier.T2)
    factories.make_ticket(tier=Tier.T3)
    client.force_login(factories.make_agent(2, 3))
    response = queue(client)
    assert response.context["queue"].key == "tier2"
    assert refs(response) == [t2.reference]


def test_tabs_show_only_the_agents_tiers_with_counts(client, db):
    agent = factories.make_agent(2)
    for _ in range(3):
        factories.make_ticket(tier=Tier.T2)
    factories.make_ticket(tier=Tier.T2, status=Status.RESOLVED, resolved_at=timezone.now(), resolution_note="x")
    factories.make_ticket(tier=Tier.T2, assignee=agent, status=Status.OPEN)
    factories.make_ticket(tier=Tier.T1, is_swarm=True)
    factories.make_ticket(tier=Tier.T1)
    client.force_login(agent)
    response = queue(client)
    page = response.content.decode()
    tabs = re.search(r'<ul[^>]*aria-label="Your tier queues"[^>]*>(.*?)</ul>', page, re.S).group(1)
    assert "Tier 2 - Technicians" in tabs
    assert "Tier 1" not in tabs and "Tier 3" not in tabs
    counts = {tab.key: tab.count for tab in response.context["tabs"]}
    assert counts == {"tier2": 4, "mine": 1, "unassigned": 3, "swarm": 1}
    assert re.search(r"<h1[^>]*>Queues</h1>", page)


def test_manager_tabs_cover_every_tier_including_vendors(client, db):
    vendor_ticket = factories.make_ticket(tier=Tier.T4, vendor=factories.VendorFactory())
    client.force_login(factories.make_manager())
    response = queue(client, queue="tier4")
    assert [tab.key for tab in response.context["tabs"]] == [
        "tier1",
        "tier2",
        "tier3",
        "tier4",
        "mine",
        "unassigned",
        "swarm",
    ]
    assert refs(response) == [vendor_ticket.reference]
    assert "Take next ticket" not in response.content.decode()  # a manager without a tier takes nothing


def test_mine_and_swarm_queues(client, db):
    agent = factories.make_agent(1)
    assigned = factories.make_ticket(assignee=agent, status=Status.OPEN)
    factories.make_ticket(assignee=factories.make_agent(1), status=Status.OPEN)
    swarm = factories.make_ticket(tier=Tier.T3, is_swarm=True)
    closed_swarm = factories.make_ticket(
        tier=Tier.T3,
        is_swarm=True,
        status=Status.CLOSED,
        resolved_at=timezone.now(),
        closed_at=timezone.now(),
        resolution_note="done",
    )
    client.force_login(agent)
    assert refs(queue(client, queue="mine")) == [assigned.reference]
    assert refs(queue(client, queue="swarm")) == [swarm.reference]
    assert closed_swarm.reference in refs(queue(client, queue="swarm", status="closed"))


def test_only_open_tickets_unless_status_asked(client, db):
    agent = factories.make_agent(1)
    open_ticket = factories.make_ticket(status=Status.PENDING_REQUESTER)
    resolved = factories.make_ticket(status=Status.RESOLVED, resolved_at=timezone.now(), resolution_note="Fixed")
    client.force_login(agent)
    assert refs(queue(client)) == [open_ticket.reference]
    assert refs(queue(client, status="resolved")) == [resolved.reference]
    assert set(refs(queue(client, status=["resolved", "pending_requester"]))) == {
        resolved.reference,
        open_ticket.reference,
    }


def test_filters_narrow_the_list(client, db):
    agent = factories.make_agent(1)
    colleague = factories.make_agent(1)
    category = factories.CategoryFactory(name="Printers")
    p1 = factories.make_ticket(impact="high", urgency="high")
    in_category = factories.make_ticket(category=category)
    by_mail = factories.make_ticket(channel=Channel.EMAIL)
    taken = factories.make_ticket(assignee=colleague, status=Status.OPEN)
    old = factories.make_ticket(created_at=timezone.now() - timedelta(days=10))
    client.force_login(agent)
    assert refs(queue(client, priority=Priority.P1)) == [p1.reference]
    assert refs(queue(client, category=category.pk)) == [in_category.reference]
    assert refs(queue(client, channel="email")) == [by_mail.reference]
    assert refs(queue(client, assignee=colleague.pk)) == [taken.reference]
    assert taken.reference not in refs(queue(client, assignee="none"))
    assert len(refs(queue(client, assignee="none"))) == 4
    assert refs(queue(client, age="older7d")) == [old.reference]
    assert old.reference not in refs(queue(client, age="7d"))
    assert old.reference not in refs(queue(client, age="today"))
    assert len(refs(queue(client, age="30d"))) == 5


def test_search_by_reference_subject_and_requester(client, db):
    rita = factories.make_requester(username="rita", email="rita.r@corp.example", first_name="Rita", last_name="Reyes")
    printer = factories.make_ticket(rita, subject="Printer jams")
    vpn = factories.make_ticket(subject="VPN drops every hour")
    client.force_login(factories.make_agent(1))
    assert refs(queue(client, q=vpn.reference)) == [vpn.reference]
    assert refs(queue(client, q=f"hd-{vpn.pk}")) == [vpn.reference]
    assert refs(queue(client, q="vpn DROPS")) == [vpn.reference]
    for text in ("rita", "corp.example", "Rita Reyes", "reyes"):
        assert refs(queue(client, q=text)) == [printer.reference], text
    assert refs(queue(client, q="nothing like this")) == []


@pytest.mark.parametrize(
    "params",
    [
        {"priority": "9"},
        {"priority": "high"},
        {"status": "bogus"},
        {"category": "abc"},
        {"category": "999999"},
        {"assignee": "999999"},
        {"assignee": "'; drop table"},
        {"channel": "fax"},
        {"age": "forever"},
    ],
)
def test_invalid_filter_shows_errors_and_an_empty_list(client, db, params):
    factories.make_ticket()
    client.force_login(factories.make_agent(1))
    response = queue(client, **params)
    assert response.status_code in (200, 400)
    assert refs(response) == []
    assert response.context["filter"].errors
    assert "Some filters are not valid" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "password"},
        {"sort": "-pk"},
        {"sort": ""},
        {"page": "abc"},
        {"page": "-1"},
        {"page": "99999"},
        {"queue": "tier9"},
        {"queue": "tier0"},
        {"queue": "../../etc"},
        {"q": "x" * 5000},
        {"q": "HD-99999999999999999999"},
    ],
)
def test_odd_parameters_never_break_the_page(client, db, params):
    ticket = factories.make_ticket(subject="x" * 10)
    client.force_login(factories.make_agent(1))
    response = queue(client, **params)
    assert response.status_code == 200
    if "q" not in params:
        assert refs(response) == [ticket.reference]


def test_sorting(client, db):
    now = timezone.now()
    old_p3 = factories.make_ticket(created_at=now - timedelta(days=3), updated_at=now - timedelta(hours=1))
    new_p1 = factories.make_ticket(
        impact="high", urgency="high", created_at=now - timedelta(days=1), updated_at=now - timedelta(hours=3)
    )
    old_p1 = factories.make_ticket(
        impact="high", urgency="high", created_at=now - timedelta(days=2), updated_at=now - timedelta(hours=2)
    )
    client.force_login(factories.make_agent(1))
    expected = {
        None: [old_p1, new_p1, old_p3],
        "priority": [old_p1, new_p1, old_p3],
        "-priority": [old_p3, old_p1, new_p1],
        "created": [old_p3, old_p1, new_p1],
        "-created": [new_p1, old_p1, old_p3],
        "updated": [new_p1, old_p1, old_p3],
        "-updated": [old_p3, old_p1, new_p1],
        "subject; drop": [old_p1, new_p1, old_p3],
    }
    for sort, tickets in expected.items():
        response = queue(client, **({"sort": sort} if sort else {}))
        assert refs(response) == [t.reference for t in tickets], sort


def test_paging_keeps_the_filters(client, db):
    for _ in range(30):
        factories.make_ticket(channel=Channel.EMAIL)
    factories.make_ticket(channel=Channel.PHONE)
    client.force_login(factories.make_agent(1))
    first = queue(client, channel="email", sort="-created")
    assert len(refs(first)) == 25
    page = first.content.decode()
    assert "30 tickets" in page
    assert "?channel=email&amp;sort=-created&amp;page=2" in page
    second = queue(client, channel="email", sort="-created", page=2)
    assert len(refs(second)) == 5
    assert not set(refs(first)) & set(refs(second))
    assert "?channel=email&amp;sort=-created&amp;page=1" in second.content.decode()


def test_queue_lists_stay_inside_what_the_agent_may_see(client, db):
    from tickets.permissions import visible_tickets

    agent = factories.make_agent(1)
    factories.make_ticket(tier=Tier.T2)
    factories.make_ticket(tier=Tier.T3, is_swarm=True)
    factories.make_ticket(tier=Tier.T2, assignee=agent, status=Status.OPEN)
    factories.make_ticket()
    client.force_login(agent)
    visible = {t.reference for t in visible_tickets(agent)}
    for key in ("tier1", "mine", "unassigned", "swarm"):
        listed = set(refs(queue(client, queue=key, status=[s.value for s in Status])))
        assert listed and listed <= visible, key


def _make_varied_tickets(count: int, **fields) -> None:
    for i in range(count):
        category = factories.CategoryFactory(parent=factories.CategoryFactory()) if i % 2 else None
        assignee = factories.make_agent(1) if i % 3 else None
        factories.make_ticket(
            factories.make_requester(),
            category=category,
            assignee=assignee,
            status=Status.OPEN if assignee else Status.NEW,
            **fields,
        )


def _option_list_fragments() -> tuple[object, list[bytes]]:
    """The Redis client and the keys of the cached option-list fragments ({% cache %} in queue_home.html)."""
    redis = cache._cache.get_client("")
    return redis, redis.keys("*template.cache.queue_*")


def _forget_option_lists() -> None:
    """Drop the cached option lists, as Redis does when they expire."""
    redis, keys = _option_list_fragments()
    if keys:
        redis.delete(*keys)


def test_queue_page_query_count_does_not_grow_with_tickets(client, db, django_assert_num_queries):
    agent = factories.make_agent(1)
    _make_varied_tickets(3)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        assert len(refs(queue(client))) == 3
    _make_varied_tickets(27)
    # The shared tab counts and the option lists are cached; read them again as on the first visit.
    cache.delete(_shared_counts_key([1]))
    _forget_option_lists()
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(refs(queue(client))) == 25
    # Within a few seconds the shared counts come from the cache, and the option lists of the
    # filters and bulk fields (two lists of people, one of categories) are cached template
    # fragments: the session's user, their roles, their own count, the page and the saved views
    # of the sidebar (one statement, the person's own and the shared ones) remain.
    with django_assert_num_queries(len(few.captured_queries) - 4) as warm:
        queue(client)
    assert len(warm.captured_queries) == 5


def test_option_lists_are_cached_for_a_minute_whatever_changes_or_signs_in(client, db, django_assert_num_queries):
    """The filter and bulk-action option lists may be up to OPTION_LISTS_SECONDS old (documented).

    A sign-in (which saves the user's ``last_login``) no longer throws them away; a new
    category or agent shows once the fragments expire, whatever wrote the change.
    """
    agent = factories.make_agent(1)
    client.force_login(agent)
    page = client.get("/queues/").content.decode()
    assert "Scanners" not in page
    with CaptureQueriesContext(connection) as warm:
        client.get("/queues/")
    Category.objects.create(name="Scanners")
    newcomer = factories.make_agent(2, username="newcomer", first_name="Nora", last_name="Newcomer")
    Client().force_login(newcomer)  # update_last_login saves the user
    # Within the TTL the lists come from the cache: the page reads no more than before.
    with django_assert_num_queries(len(warm.captured_queries)):
        page = client.get("/queues/").content.decode()
    assert "Scanners" not in page and "Nora Newcomer" not in page
    redis, fragments = _option_list_fragments()
    assert len(fragments) == 2  # the filter form of this query string, and the bulk-action fields
    assert all(0 < redis.ttl(key) <= OPTION_LISTS_SECONDS for key in fragments)
    _forget_option_lists()
    page = client.get("/queues/").content.decode()
    assert page.count(">Scanners</option>") == 1  # the category filter
    assert page.count(">Nora Newcomer</option>") == 2  # the assignee filter and the bulk "assign to"


def test_a_filter_form_with_errors_is_never_cached(client, db):
    client.force_login(factories.make_agent(1))
    assert client.get("/queues/", {"priority": "9"}).status_code == 400
    Category.objects.create(name="Scanners")
    page = client.get("/queues/", {"priority": "9"}).content.decode()
    assert page.count(">Scanners</option>") == 1


def test_shared_tab_counts_are_cached_briefly_and_mine_stays_live(client, db):
    agent = factories.make_agent(1)
    colleague = factories.make_agent(1)
    factories.make_ticket(subject="Printer jam", status=Status.NEW)
    client.force_login(agent)

    def counts():
        return {tab.key: tab.count for tab in client.get("/queues/").context["tabs"]}

    assert counts() == {"tier1": 1, "mine": 0, "unassigned": 1, "swarm": 0}
    services.claim_ticket(ticket_id=Ticket.objects.get().pk, by=colleague)
    factories.make_ticket(subject="VPN down", status=Status.OPEN, assignee=agent)
    # Someone else's change shows within SHARED_COUNTS_SECONDS; the agent's own list is live.
    assert counts() == {"tier1": 1, "mine": 1, "unassigned": 1, "swarm": 0}
    client_redis = cache._cache.get_client(_shared_counts_key([1]))
    ttl = client_redis.ttl(cache.make_and_validate_key(_shared_counts_key([1])))
    assert 0 < ttl <= SHARED_COUNTS_SECONDS
    cache.delete(_shared_counts_key([1]))  # as Redis does when the entry expires
    assert counts() == {"tier1": 2, "mine": 1, "unassigned": 0, "swarm": 0}


def test_taking_a_ticket_refreshes_the_agents_tab_counts_at_once(client, db):
    agent = factories.make_agent(1)
    factories.make_ticket(subject="Printer jam", status=Status.NEW)
    client.force_login(agent)
    assert {tab.key: tab.count for tab in client.get("/queues/").context["tabs"]}["unassigned"] == 1
    client.post(reverse("tickets:take_next"))
    tabs = {tab.key: tab.count for tab in client.get("/queues/").context["tabs"]}
    assert tabs["unassigned"] == 0 and tabs["mine"] == 1


# ----------------------------------------------------------------------------- vendor page


def test_vendor_sees_only_their_vendors_tickets(client, db):
    mine, other = factories.VendorFactory(name="Contoso"), factories.VendorFactory(name="Fabrikam")
    contact = factories.make_vendor_contact(mine)
    ours = factories.make_ticket(subject="Disk array firmware", tier=Tier.T4, vendor=mine, vendor_reference="CT-42")
    theirs = factories.make_ticket(subject="Switch crash", tier=Tier.T4, vendor=other, vendor_reference="FB-7")
    own_request = factories.make_ticket(contact, subject="My laptop")
    client.force_login(contact)
    response = client.get("/vendor/")
    page = response.content.decode()
    assert re.search(r"<h1[^>]*>Tickets escalated to Contoso</h1>", page)
    assert refs(response) == [ours.reference]
    assert "CT-42" in page and f'href="/tickets/{ours.pk}/"' in page
    for hidden in (theirs, own_request):
        assert hidden.reference not in page and hidden.subject not in page
    assert refs(client.get("/vendor/", {"q": theirs.reference})) == []
    assert refs(client.get("/vendor/", {"q": "ct-42"})) == [ours.reference]
    assert refs(client.get("/vendor/", {"q": "firmware"})) == [ours.reference]


def test_vendor_list_open_by_default_all_on_request_and_paged(client, db):
    vendor = factories.VendorFactory()
    contact = factories.make_vendor_contact(vendor)
    for _ in range(26):
        factories.make_ticket(tier=Tier.T4, vendor=vendor, status=Status.PENDING_VENDOR)
    done = factories.make_ticket(
        tier=Tier.T4, vendor=vendor, status=Status.RESOLVED, resolved_at=timezone.now(), resolution_note="Replaced"
    )
    client.force_login(contact)
    first = client.get("/vendor/")
    assert len(refs(first)) == 25 and first.context["page_obj"].paginator.count == 26
    assert done.reference not in refs(first) + refs(client.get("/vendor/", {"page": 2}))
    everything = client.get("/vendor/", {"state": "all", "sort": "-updated"})
    assert everything.context["page_obj"].paginator.count == 27
    assert "state=all&amp;sort=-updated&amp;page=2" in everything.content.decode()
    bad = client.get("/vendor/", {"state": "secret", "sort": "nope", "page": "x"})
    assert bad.status_code in (200, 400) and refs(bad) == []


def test_vendor_page_query_count_does_not_grow_with_tickets(client, db, django_assert_num_queries):
    vendor = factories.VendorFactory()
    contact = factories.make_vendor_contact(vendor)
    _make_varied_tickets(3, tier=Tier.T4, vendor=vendor)
    client.force_login(contact)
    with CaptureQueriesContext(connection) as few:
        assert len(refs(client.get("/vendor/"))) == 3
    _make_varied_tickets(27, tier=Tier.T4, vendor=vendor)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(refs(client.get("/vendor/"))) == 25
