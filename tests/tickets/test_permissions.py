import pytest
from django.http import Http404

from tests import factories
from tickets import permissions, services
from tickets.models import Tier


@pytest.fixture
def world(db):
    """Two requesters, agents of tiers 1 and 3, two vendors with a contact each, a manager, and tickets."""
    w = {
        "req_a": factories.make_requester(),
        "req_b": factories.make_requester(),
        "t1": factories.make_agent(1),
        "t3": factories.make_agent(3),
        "manager": factories.make_manager(),
    }
    vendor_x, vendor_y = factories.VendorFactory(), factories.VendorFactory()
    w["vendor_x"] = factories.make_vendor_contact(vendor_x)
    w["vendor_y"] = factories.make_vendor_contact(vendor_y)
    w["a_t1"] = factories.make_ticket(w["req_a"])
    w["a_t3"] = factories.make_ticket(w["req_a"], tier=Tier.T3)
    w["b_t1"] = factories.make_ticket(w["req_b"])
    w["b_vx"] = factories.make_ticket(w["req_b"], tier=Tier.T4, vendor=vendor_x)
    return w


VISIBLE = {
    "req_a": {"a_t1", "a_t3"},
    "req_b": {"b_t1", "b_vx"},
    "t1": {"a_t1", "b_t1"},
    "t3": {"a_t3"},
    "vendor_x": {"b_vx"},
    "vendor_y": set(),
    "manager": {"a_t1", "a_t3", "b_t1", "b_vx"},
}


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_visible_tickets_per_role(world, who):
    names = {"a_t1", "a_t3", "b_t1", "b_vx"}
    visible = set(permissions.visible_tickets(world[who]).values_list("pk", flat=True))
    assert visible == {world[name].pk for name in VISIBLE[who]}
    for name in names - VISIBLE[who]:
        with pytest.raises(Http404):
            permissions.get_ticket_for(world[who], world[name].pk)


def test_watchers_see_the_ticket_and_swarm_opens_it_to_other_tiers(world):
    services.add_watcher(ticket_id=world["a_t1"].pk, by=world["req_a"], watcher=world["req_b"])
    assert permissions.visible_tickets(world["req_b"]).filter(pk=world["a_t1"].pk).exists()
    assert not permissions.can_work(world["t1"], world["a_t3"])
    services.open_swarm(ticket_id=world["a_t3"].pk, by=world["t3"])
    assert permissions.visible_tickets(world["t1"]).filter(pk=world["a_t3"].pk).exists()
    assert not permissions.can_work(world["t1"], world["a_t3"])  # seeing is not working
    services.join_swarm(ticket_id=world["a_t3"].pk, by=world["t1"])
    world["a_t3"].refresh_from_db()
    assert permissions.can_work(world["t1"], world["a_t3"])


def test_a_requester_who_watches_nothing_is_listed_by_the_requester_column_alone(world):
    user = world["req_b"]
    listed = permissions.visible_tickets(user).order_by("-created_at", "-id")
    assert "tickets_ticket_watchers" not in str(listed.query)
    assert list(listed.values_list("pk", flat=True)) == [world["b_vx"].pk, world["b_t1"].pk]
    # Watching starts through the service with this very user object: its cached roles are dropped.
    services.add_watcher(ticket_id=world["a_t1"].pk, by=world["req_a"], watcher=user)
    listed = permissions.visible_tickets(user).order_by("-created_at", "-id")
    assert "tickets_ticket_watchers" in str(listed.query)
    assert list(listed.values_list("pk", flat=True)) == [world["b_vx"].pk, world["b_t1"].pk, world["a_t1"].pk]


def test_watching_is_read_with_the_roles_in_one_statement(world, django_assert_num_queries):
    from tickets import roles

    services.add_watcher(ticket_id=world["a_t1"].pk, by=world["req_a"], watcher=world["req_b"])
    fresh = type(world["req_b"]).objects.get(pk=world["req_b"].pk)
    with django_assert_num_queries(1):
        info = roles.role_info(fresh)
    assert info.watches is True
    assert roles.role_info(type(fresh).objects.get(pk=world["req_a"].pk)).watches is False


def test_internal_content_is_for_staff_only(world):
    ticket = world["b_vx"]
    for who in ("req_b", "vendor_x"):
        assert not permissions.can_see_internal(world[who], ticket)
        assert "internal" not in permissions.visible_message_kinds(world[who], ticket)
    assert permissions.visible_message_kinds(world["req_b"], ticket) == ["public"]
    # The vendor's people also read the vendor side conversation of their tier-4 ticket.
    assert permissions.visible_message_kinds(world["vendor_x"], ticket) == ["public", "vendor"]
    for who in ("t1", "t3", "manager"):
        assert permissions.can_see_internal(world[who], ticket)


def test_vendor_may_reply_only_on_their_vendors_tickets(world):
    assert permissions.can_reply(world["vendor_x"], world["b_vx"])
    assert not permissions.can_reply(world["vendor_y"], world["b_vx"])
    assert not permissions.can_work(world["vendor_x"], world["b_vx"])


def test_visible_tickets_is_one_query_without_duplicates(world, django_assert_num_queries):
    services.add_watcher(ticket_id=world["a_t1"].pk, by=world["req_a"], watcher=world["t1"])
    user = world["t1"]
    permissions.visible_tickets(user)  # role lookup cached on the user
    with django_assert_num_queries(1):
        pks = list(permissions.visible_tickets(user).values_list("pk", flat=True))
    assert len(pks) == len(set(pks))


def test_anonymous_sees_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    factories.make_ticket()
    assert not permissions.visible_tickets(AnonymousUser()).exists()
