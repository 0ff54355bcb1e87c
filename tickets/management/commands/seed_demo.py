from django.core.management.base import BaseCommand

from tickets.services import DEMO_PASSWORD, seed_demo
from tickets.services.demo import seed_demo_content


class Command(BaseCommand):
    help = "Create the demo accounts (requester, agents of tiers 1-3, vendor contact, manager, admin). Idempotent."

    def handle(self, *args, **options):
        rows = seed_demo()
        created = seed_demo_content()
        if created:
            self.stdout.write(f"Demo tickets created: {created}")
        self.stdout.write("Demo accounts (password set only when the account is created):")
        self.stdout.write(f"  {'username':<10} {'role':<16} password")
        for username, role, created in rows:
            note = "" if created else "  (existing account, password unchanged)"
            self.stdout.write(f"  {username:<10} {role:<16} {DEMO_PASSWORD}{note}")
