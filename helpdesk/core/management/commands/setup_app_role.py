import os

from django.core.management.base import BaseCommand
from django.db import connection

from helpdesk.core.dbroles import DEFAULT_APP_ROLE, grant_app_privileges
from helpdesk.embedded import database_url


class Command(BaseCommand):
    help = (
        "Run as the schema owner after migrate: create the application's least-privilege role if "
        "missing and grant it row access (no DDL, no TRUNCATE, append-only history). "
        "--print-url prints DATABASE_URL for that role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", default=os.environ.get("DATABASE_APP_ROLE") or DEFAULT_APP_ROLE)
        parser.add_argument("--print-url", action="store_true", help="print the role's DATABASE_URL and nothing else")

    def handle(self, *args, role, print_url, **options):
        password = os.environ.get("DATABASE_APP_PASSWORD") or None
        grant_app_privileges(role=role, password=password)
        if print_url:
            self.stdout.write(database_url({**connection.settings_dict, "USER": role, "PASSWORD": password or ""}))
        else:
            self.stdout.write(f"database role {role}: row access granted, nothing owned")
