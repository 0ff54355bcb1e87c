"""Adding watchers by what a person typed (the page's form and the API): one answer per role.

The rule itself (who may add whom) is ``permissions.can_add_as_watcher``; the change is
``claiming.add_watcher``. What this module adds is the lookup of the person and the answer:

* whoever works the ticket names anyone by username or e-mail address and is told plainly
  when nobody has it or the rule refuses (staff see the people directory anyway);
* a requester names a colleague by e-mail address only, and gets the same answer whether the
  address is unknown, refused or added: the form must not tell who has an account here.
"""

from __future__ import annotations

from contextlib import suppress

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from helpdesk.core.models import User

from .. import permissions
from ..models import Ticket
from .claiming import add_watcher

NOBODY = "Nobody with that username or e-mail address."


def requester_answer(address: str, ticket: Ticket) -> str:
    """What a requester is told after naming ``address``, whatever happened (no enumeration)."""
    return (
        f"If {address} is the address of a colleague who may follow {ticket.reference}, "
        "they now follow it and get its public updates by e-mail."
    )


def add_watcher_by_address(*, ticket_id: int, by: User, who: str) -> str:
    """Make the person named by ``who`` follow the ticket if the watcher rule allows; returns the answer.

    Invariants: the caller has already checked that ``by`` may see the ticket and may add
    watchers (``permissions.can_add_watcher``). For a worker, an unknown name or a refusal raises
    ``ValidationError`` with the reason. For a requester, ``who`` must look like an e-mail
    address (``ValidationError`` otherwise, which says nothing about accounts); an unknown or
    refused address writes nothing and answers exactly as an added one.
    Side effects: those of ``claiming.add_watcher`` when someone is added.
    """
    ticket = Ticket.objects.select_related("requester").get(pk=ticket_id)
    text = (who or "").strip()
    people = get_user_model().objects.filter(is_active=True).order_by("pk")
    if permissions.can_work(by, ticket):
        person = people.filter(Q(username__iexact=text) | Q(email__iexact=text)).first() if text else None
        if person is None:
            raise ValidationError(NOBODY)
        add_watcher(ticket_id=ticket.pk, by=by, watcher=person)
        return f"{person.display_name} now follows {ticket.reference}."
    try:
        validate_email(text)
    except ValidationError:
        raise ValidationError("Enter your colleague's e-mail address.") from None
    person = people.filter(email__iexact=text).first()
    if person is not None and permissions.can_add_as_watcher(by, person, ticket):
        # The rule may say no under the lock (the ticket just left tier 4): the same answer.
        with suppress(ValidationError):
            add_watcher(ticket_id=ticket.pk, by=by, watcher=person)
    return requester_answer(text, ticket)
