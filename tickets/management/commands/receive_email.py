"""``manage.py receive_email``: one RFC 822 message on standard input, for a mail server's pipe.

Postfix example (master.cf): ``helpdesk unix - n n - - pipe flags=Rq user=helpdesk
argv=/srv/helpdesk/.venv/bin/python /srv/helpdesk/manage.py receive_email --recipient ${recipient}``.

Exit status 0 once the message is stored (whatever became of it: see the admin's inbound
e-mail list); 75 (EX_TEMPFAIL) if it could not be stored, so the mail server keeps it and
tries again later: a message is never dropped.
"""

import logging
import sys

from django.core.management.base import BaseCommand, CommandError

from tickets.mail.inbound import receive_email

logger = logging.getLogger(__name__)

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Receive one e-mail from standard input: a new ticket, a reply, or kept for an admin."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument(
            "--recipient", default="", help="The envelope recipient (e.g. Postfix's ${recipient}), for the reply token."
        )

    def handle(self, *args, **options):
        stream = options.get("stdin") or sys.stdin.buffer
        raw = stream.read()
        if not raw:
            raise CommandError("No message on standard input.")
        try:
            mail = receive_email(raw, source="pipe", envelope_recipient=options["recipient"])
        except Exception:
            logger.exception("could not store an inbound message; the mail server will retry")
            sys.exit(EX_TEMPFAIL)
        ticket = f" {mail.ticket.reference}" if mail.ticket is not None else ""
        self.stdout.write(f"{mail.status}{ticket}: {mail.reason or mail.get_action_display()}")
