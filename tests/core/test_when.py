"""One date/time style: ``{% when %}`` and the person's own time zone."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from helpdesk.core.templatetags.when import relative, when
from tests import factories

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=-10), "just now"),
        (timedelta(minutes=-1), "1 minute ago"),
        (timedelta(minutes=-4), "4 minutes ago"),
        (timedelta(hours=-1), "1 hour ago"),
        (timedelta(hours=2), "in 2 hours"),
        (timedelta(hours=-23), "yesterday 13:00"),
        (timedelta(days=-3), "Mon 12:00"),
        (timedelta(days=-40), "24 Oct"),
        (timedelta(days=-400), "29 Oct 2025"),
    ],
)
def test_relative_words_with_correct_plurals(delta, text):
    with timezone.override("UTC"):
        assert relative(NOW + delta, NOW) == text


def test_the_tag_shows_the_exact_time_in_the_active_zone_on_hover():
    with timezone.override("Europe/Berlin"):
        html = when(NOW - timedelta(minutes=4), now=NOW)
    assert html == '<time datetime="2026-12-03T11:56:00+00:00" title="Thu 3 Dec 2026, 12:56 CET">4 minutes ago</time>'
    assert when(None) == ""


def test_the_tag_is_a_builtin_of_every_template():
    with timezone.override("UTC"):
        rendered = Template("{% when moment exact=True %}").render(Context({"moment": NOW}))
    assert ">Thu 3 Dec 2026, 12:00 UTC</time>" in rendered


@pytest.mark.django_db
def test_pages_show_times_in_the_persons_own_zone(client):
    requester = factories.make_requester(time_zone="Asia/Tokyo")
    factories.make_ticket(requester=requester)
    client.force_login(requester)
    page = client.get("/portal/").content.decode()
    assert ' JST">' in page  # the exact time on hover, in Tokyo time
    requester.time_zone = "Not/AZone"  # an unknown name falls back to the desk's zone, no error
    requester.save(update_fields=["time_zone"])
    page = client.get("/portal/").content.decode()
    assert ' UTC">' in page
