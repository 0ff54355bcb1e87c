"""``manage.py sla_recompute [HD-000123 | 123 ...]``: rebuild SLA clocks from the ticket histories."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from sla.services import load_book, sync_ticket_clocks
from tickets.models import Ticket, parse_reference


class Command(BaseCommand):
    help = "Rebuild the SLA clocks of the given tickets (references or ids), or of every ticket, from their history."

    def add_arguments(self, parser):
        parser.add_argument("tickets", nargs="*", help="ticket references (HD-000123) or ids; none = every ticket")
        parser.add_argument("--open-only", action="store_true", help="only tickets that are not resolved or closed")

    def handle(self, *args, tickets, open_only, **options):
        if tickets:
            ids = []
            for text in tickets:
                pk = parse_reference(text)
                if pk is None:
                    raise CommandError(f"Not a ticket reference or id: {text!r}")
                ids.append(pk)
            queryset = Ticket.objects.filter(pk__in=ids)
            missing = set(ids) - set(queryset.values_list("pk", flat=True))
            if missing:
                raise CommandError("No such ticket: " + ", ".join(str(pk) for pk in sorted(missing)))
        else:
            queryset = Ticket.objects.open() if open_only else Ticket.objects.all()
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        book = load_book()
        for done, pk in enumerate(ids, start=1):
            with transaction.atomic():
                ticket = Ticket.objects.select_for_update(of=("self",)).select_related("requester").get(pk=pk)
                sync_ticket_clocks(ticket, book)
            if done % 100 == 0 or done == len(ids):
                self.stdout.write(f"  rebuilt {done:,}/{len(ids):,} tickets", ending="\r")
                self.stdout.flush()
        self.stdout.write(self.style.SUCCESS(f"\nRebuilt the SLA clocks of {len(ids):,} ticket(s)."))
