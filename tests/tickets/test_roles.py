import pytest
from django.urls import reverse

from tests import factories
from tickets import roles
from tickets.services import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo, set_agent_tiers


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (factories.make_requester, roles.Role.REQUESTER),
        (lambda: factories.make_agent(2), roles.Role.AGENT),
        (factories.make_vendor_contact, roles.Role.VENDOR),
        (factories.make_manager, roles.Role.MANAGER),
        (factories.make_admin, roles.Role.ADMIN),
    ],
)
def test_primary_role(db, make, expected):
    assert roles.primary_role(make()) == expected


def test_plain_signed_in_user_is_a_requester(db):
    user = factories.UserFactory()
    assert roles.roles_of(user) == [roles.Role.REQUESTER]


def test_agent_tiers_and_changes(db):
    user = factories.make_agent(1, 3)
    assert roles.agent_tiers(user) == {1, 3}
    set_agent_tiers(user=user, tiers=[2])
    assert roles.agent_tiers(user) == {2}
    set_agent_tiers(user=user, tiers=[])
    assert not roles.is_agent(user)
    assert roles.agent_tiers(user) == frozenset()


def test_agent_tiers_refuse_tier_four_and_zero(db):
    user = factories.make_agent(1)
    for bad in (0, 4):
        with pytest.raises(ValueError):
            set_agent_tiers(user=user, tiers=[bad])
    assert roles.agent_tiers(user) == {1}


def test_roles_are_read_in_one_query_and_cached(db, django_assert_num_queries):
    user = factories.make_agent(1, 2)
    roles.forget_roles(user)
    with django_assert_num_queries(1):
        assert roles.is_agent(user)
        assert roles.agent_tiers(user) == {1, 2}
        assert not roles.is_manager(user)
        assert roles.primary_role(user) == roles.Role.AGENT


def test_seed_demo_is_idempotent_and_keeps_changed_passwords(db):
    first = seed_demo()
    assert all(created for _, _, created in first)
    from django.contrib.auth import get_user_model

    requester = get_user_model().objects.get(username="requester")
    requester.set_password("changed-by-the-user-1")
    requester.save()
    second = seed_demo()
    assert not any(created for _, _, created in second)
    assert get_user_model().objects.filter(username__in=[a[0] for a in DEMO_ACCOUNTS]).count() == len(DEMO_ACCOUNTS)
    requester.refresh_from_db()
    assert requester.check_password("changed-by-the-user-1")
    labels = {username: label for username, label, _ in second}
    assert labels == {
        "requester": "Requester",
        "agent1": "Agent",
        "agent2": "Agent",
        "agent3": "Agent",
        "vendor": "Vendor contact",
        "manager": "Manager",
        "admin": "Admin",
    }
    assert roles.agent_tiers(get_user_model().objects.get(username="agent3")) == {3}
    assert get_user_model().objects.get(username="admin").check_password(DEMO_PASSWORD)


def test_seed_demo_command_prints_accounts_and_passwords(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    for username, *_ in DEMO_ACCOUNTS:
        assert username in text
    assert DEMO_PASSWORD in text
    assert reverse("login")  # the URL the README points people to exists


def test_demo_content_is_seeded_once_in_every_state(db):
    from tickets.models import Category, Macro, Status, Ticket, Tier
    from tickets.services.demo import seed_demo_content

    seed_demo()
    created = seed_demo_content()
    assert created == Ticket.objects.count() >= 5
    assert seed_demo_content() == 0  # idempotent
    assert Ticket.objects.count() == created
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {Status.NEW, Status.PENDING_REQUESTER, Status.RESOLVED} <= statuses
    assert Ticket.objects.filter(tier=Tier.T4, vendor__name="Contoso Hardware").exists()
    assert Category.objects.filter(route_tier=Tier.T3).exists()
    assert Macro.objects.filter(tier=Tier.T1, owner=None).count() >= 2  # the demo's tier macros
    assert Macro.objects.get(name="Ask for details").status == Status.PENDING_REQUESTER
