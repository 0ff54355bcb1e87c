from django.core.management.base import BaseCommand

from knowledgebase.demo import seed_kb_content


class Command(BaseCommand):
    help = "Create demo knowledge-base categories and articles (a known error and an internal runbook). Idempotent."

    def handle(self, *args, **options):
        created = seed_kb_content()
        self.stdout.write(f"Knowledge-base demo articles created: {created}")
