from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from tickets import roles


def test_models_and_migrations_agree(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_data_migration_created_the_four_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_GROUPS)
