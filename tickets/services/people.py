"""People of the helpdesk: agents and their tiers, vendor contacts, the demo accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from helpdesk.core.models import User

from .. import roles
from ..models import AGENT_TIERS, TierMembership, Vendor, VendorContact

DEMO_PASSWORD = "helpdesk-demo"  # noqa: S105 - printed for the demo accounts on purpose


SYSTEM_USERNAME = "helpdesk-system"


def system_user() -> User:
    """The account automatic changes are recorded under (SLA escalations): inactive, no password."""
    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"first_name": "Helpdesk", "last_name": "(automatic)", "is_active": False, "email": ""},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def set_agent_tiers(*, user: User, tiers: list[int]) -> None:
    """Make ``user`` an agent of exactly ``tiers`` (each 1-3); an empty list removes the Agent role.

    Side effects: rewrites the user's tier memberships and Agent group membership.
    """
    bad = [t for t in tiers if t not in AGENT_TIERS]
    if bad:
        raise ValueError(f"agents belong to tiers 1-3, not {bad}")
    with transaction.atomic():
        TierMembership.objects.filter(user=user).exclude(tier__in=tiers).delete()
        TierMembership.objects.bulk_create([TierMembership(user=user, tier=t) for t in tiers], ignore_conflicts=True)
        agent_group = roles.group(roles.GROUP_AGENT)
        if tiers:
            user.groups.add(agent_group)
        else:
            user.groups.remove(agent_group)
    roles.forget_roles(user)


DEMO_ACCOUNTS = [
    # username, first, last, groups, tiers, vendor contact?, superuser?
    ("requester", "Rita", "Requester", [roles.GROUP_REQUESTER], [], False, False),
    ("agent1", "Alex", "First-Tier", [roles.GROUP_AGENT], [1], False, False),
    ("agent2", "Bea", "Second-Tier", [roles.GROUP_AGENT], [2], False, False),
    ("agent3", "Chris", "Third-Tier", [roles.GROUP_AGENT], [3], False, False),
    ("vendor", "Victor", "Vendor", [], [], True, False),
    ("manager", "Maya", "Manager", [roles.GROUP_MANAGER], [], False, False),
    ("admin", "Ada", "Admin", [roles.GROUP_ADMIN], [], False, True),
]
DEMO_VENDOR = "Contoso Hardware"


def seed_demo(*, password: str = DEMO_PASSWORD) -> list[tuple[str, str, bool]]:
    """Create the demo accounts and vendor if missing; idempotent.

    Returns (username, role label, created) per account. Passwords are set only when an
    account is created, so a password changed later is kept.
    """
    user_model = get_user_model()
    result = []
    with transaction.atomic():
        vendor, _ = Vendor.objects.get_or_create(
            name=DEMO_VENDOR, defaults={"email": "support@contoso.example", "phone": "+1 555 0100"}
        )
        for username, first, last, groups, tiers, is_vendor, is_super in DEMO_ACCOUNTS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                    "is_staff": is_super,
                    "is_superuser": is_super,
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.add(*(roles.group(name) for name in groups))
            if tiers:
                set_agent_tiers(user=user, tiers=tiers)
            if is_vendor:
                VendorContact.objects.get_or_create(user=user, defaults={"vendor": vendor})
            roles.forget_roles(user)
            role = roles.primary_role(user)
            result.append((username, str(role.label) if role else "", created))
    return result


# The demo desk's history (``demo_history``) needs more people than the accounts above: colleagues
# in every tier, so the per-agent figures compare several agents, and requesters across the
# company. They cannot sign in (no usable password); the accounts above are the ones to try.
DEMO_COLLEAGUES = [
    # username, first, last, tiers
    ("noor", "Noor", "Haddad", [1]),
    ("sam", "Sam", "Okafor", [1]),
    ("omar", "Omar", "Lindqvist", [2]),
    ("priya", "Priya", "Raman", [2]),
    ("lena", "Lena", "Fischer", [3]),
]
DEMO_REQUESTER_NAMES = [
    ("Emma", "Schulz"), ("Liam", "Novak"), ("Olivia", "Brandt"), ("Noah", "Jensen"), ("Ava", "Moreau"),
    ("Lucas", "Rossi"), ("Mia", "Kowalski"), ("Ethan", "Dubois"), ("Sofia", "Berg"), ("Mateo", "Costa"),
    ("Isla", "Murphy"), ("Leo", "Varga"), ("Chloe", "Nakamura"), ("Adam", "Horvat"), ("Zoe", "Petrov"),
    ("Hugo", "Lambert"), ("Nora", "Svensson"), ("Felix", "Weber"), ("Alice", "Marin"), ("Oscar", "Nilsen"),
    ("Clara", "Duarte"), ("Jonas", "Keller"), ("Maya", "Ibrahim"), ("Theo", "Walsh"), ("Elena", "Popescu"),
    ("Max", "Hoffmann"), ("Lea", "Santos"), ("Samuel", "Okoro"), ("Ines", "Lopez"), ("David", "Kim"),
    ("Julia", "Mayer"), ("Ben", "Carter"), ("Hana", "Sato"), ("Paul", "Richter"), ("Rosa", "Ferreira"),
    ("Omar", "Farouk"),
]  # fmt: skip


def _demo_person(username: str, first: str, last: str) -> tuple[User, bool]:
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user, created


def seed_demo_people() -> tuple[dict[int, list[User]], list[User]]:
    """The demo desk's people, created if missing (idempotent): agents by tier (the demo agents
    first, then their colleagues) and requesters (the demo requester first).

    Run ``seed_demo`` first. Side effects: the missing colleagues and requesters, without a
    usable password; colleagues get the Agent role and their tiers.
    """
    user_model = get_user_model()
    with transaction.atomic():
        agents: dict[int, list[User]] = {tier: [] for tier in AGENT_TIERS}
        for username in ("agent1", "agent2", "agent3"):
            user = user_model.objects.get(username=username)
            for membership in TierMembership.objects.filter(user=user):
                agents[membership.tier].append(user)
        for username, first, last, tiers in DEMO_COLLEAGUES:
            user, created = _demo_person(username, first, last)
            if created:
                set_agent_tiers(user=user, tiers=tiers)
            for tier in tiers:
                agents[tier].append(user)
        requester_group = roles.group(roles.GROUP_REQUESTER)
        requesters = [user_model.objects.get(username="requester")]
        for first, last in DEMO_REQUESTER_NAMES:
            user, created = _demo_person(f"{first}.{last}".lower(), first, last)
            if created:
                user.groups.add(requester_group)
            requesters.append(user)
    return agents, requesters
