"""factory_boy factories and role helpers shared by every test."""

import factory
from django.contrib.auth import get_user_model

from tickets import roles
from tickets.models import Category, Ticket, Vendor, VendorContact
from tickets.services import create_ticket, set_agent_tiers

PASSWORD = "correct-horse-battery"


group = roles.group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Vendor {n}")


def make_requester(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(group(roles.GROUP_REQUESTER))
    return user


def make_agent(*tiers: int, **kwargs):
    group(roles.GROUP_AGENT)
    user = UserFactory(**kwargs)
    set_agent_tiers(user=user, tiers=list(tiers or (1,)))
    return user


def make_manager(**kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(group(roles.GROUP_MANAGER))
    return user


def make_admin(**kwargs):
    user = UserFactory(is_staff=True, is_superuser=True, **kwargs)
    user.groups.add(group(roles.GROUP_ADMIN))
    return user


def make_vendor_contact(vendor=None, **kwargs):
    user = UserFactory(**kwargs)
    VendorContact.objects.create(user=user, vendor=vendor or VendorFactory())
    return user


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


def make_ticket(requester=None, **kwargs) -> Ticket:
    """A ticket made through the real service (so it has its CREATED event), then adjusted."""
    requester = requester or make_requester()
    fields = {
        k: kwargs.pop(k)
        for k in list(kwargs)
        if k in {"subject", "description", "impact", "urgency", "category", "channel", "uploads"}
    }
    fields.setdefault("subject", "Printer on floor 3 jams")
    fields.setdefault("description", "It jams on every **second** page.")
    ticket = create_ticket(requester=requester, by=requester, **fields)
    if kwargs:
        Ticket.objects.filter(pk=ticket.pk).update(**kwargs)
        ticket.refresh_from_db()
    return ticket
