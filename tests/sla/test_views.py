"""Managers' SLA pages: who opens them, calendars and policies created, edited, refused, ordered, deleted.

Every refusal is checked to leave the database as it was (rows and the settings version);
every change is checked to bump the settings version so cached policy snapshots refresh.
"""

from datetime import date, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import BusinessCalendar, Holiday, Policy, Target, WorkingInterval
from sla.services import settings_version
from tests import factories

ROLE_MAKERS = {
    "requester": factories.make_requester,
    "agent": lambda: factories.make_agent(1),
    "vendor": factories.make_vendor_contact,
    "manager": factories.make_manager,
}


# --------------------------------------------------------------------------- helpers


def office() -> BusinessCalendar:
    return BusinessCalendar.objects.get(name="Office hours")


def default_policy() -> Policy:
    return Policy.objects.get(is_default=True)


def calendar_data(
    name="Support Berlin", timezone="Europe/Berlin", always_open=False, intervals=(), holidays=(), initial=0
) -> dict:
    """POST data of the calendar page (formsets with their management forms)."""
    data = {"name": name, "timezone": timezone}
    if always_open:
        data["always_open"] = "on"
    for prefix, rows in (("intervals", intervals), ("holidays", holidays)):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": str(initial if prefix == "intervals" else 0),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    for i, row in enumerate(intervals):
        weekday, start, end, *delete = row
        data.update({f"intervals-{i}-weekday": str(weekday), f"intervals-{i}-start": start, f"intervals-{i}-end": end})
        if delete:
            data[f"intervals-{i}-DELETE"] = "on"
    for i, (day, label, yearly) in enumerate(holidays):
        data.update({f"holidays-{i}-day": day, f"holidays-{i}-name": label})
        if yearly:
            data[f"holidays-{i}-yearly"] = "on"
    return data


WEEKDAYS_9_TO_5 = [(d, "09:00", "17:00") for d in range(5)]


def policy_data(name="Hardware", calendar=None, is_default=False, targets=None, **extra) -> dict:
    """POST data of the policy page; ``targets`` maps grid cell names ("resolution_0_p1") to minutes."""
    data = {
        "name": name,
        "calendar": str((calendar or office()).pk),
        "pause_statuses": ["pending_requester", "pending_vendor"],
        "warning_percent": "75",
        "notify_assignee": "on",
        "notify_managers": "on",
    }
    if is_default:
        data["is_default"] = "on"
    for cell, value in (targets if targets is not None else {"resolution_0_p1": "240"}).items():
        data[f"t-{cell}"] = str(value)
    data.update(extra)
    return data


def snapshot() -> tuple:
    """Everything the SLA pages can change."""
    return (
        settings_version(),
        sorted(BusinessCalendar.objects.values_list("pk", "name", "timezone", "always_open")),
        sorted(WorkingInterval.objects.values_list("calendar_id", "weekday", "start", "end")),
        sorted(Holiday.objects.values_list("calendar_id", "day", "name", "yearly")),
        sorted(Policy.objects.values_list("pk", "name", "position", "is_default", "calendar_id", "warning_percent")),
        sorted(Target.objects.values_list("policy_id", "metric", "priority", "tier", "seconds", "calendar_id")),
    )


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


# --------------------------------------------------------------------------- who opens what


def _pages() -> list[str]:
    calendar, policy = office(), default_policy()
    return [
        "/sla/",
        "/sla/calendars/",
        "/sla/calendars/new/",
        f"/sla/calendars/{calendar.pk}/",
        "/sla/policies/new/",
        f"/sla/policies/{policy.pk}/",
    ]


def _posts() -> list[tuple[str, dict]]:
    calendar, policy = office(), default_policy()
    Policy.objects.create(name="First", calendar=calendar, position=5)
    other = Policy.objects.create(name="Other", calendar=calendar, position=10)
    unused = BusinessCalendar.objects.create(name="Unused", timezone="UTC", always_open=True)
    return [
        ("/sla/calendars/new/", calendar_data(intervals=WEEKDAYS_9_TO_5)),
        (f"/sla/calendars/{calendar.pk}/", calendar_data(name="Renamed", intervals=WEEKDAYS_9_TO_5)),
        (f"/sla/calendars/{unused.pk}/delete/", {}),
        ("/sla/policies/new/", policy_data()),
        (f"/sla/policies/{policy.pk}/", policy_data(name="Renamed", is_default=True)),
        (f"/sla/policies/{other.pk}/move/", {"direction": "up"}),
        (f"/sla/policies/{other.pk}/delete/", {}),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    for url in _pages():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next=")
    posts = _posts()
    before = snapshot()
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert snapshot() == before


@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
def test_only_managers_open_the_sla_pages(client, db, role):
    client.force_login(ROLE_MAKERS[role]())
    for url in _pages():
        assert client.get(url).status_code == (200 if role == "manager" else 403), url


@pytest.mark.parametrize("role", ["requester", "agent", "vendor"])
def test_other_roles_change_nothing(client, db, role):
    client.force_login(ROLE_MAKERS[role]())
    posts = _posts()
    before = snapshot()
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert snapshot() == before


def test_managers_every_post_is_accepted(manager_client):
    for url, data in _posts():
        version = settings_version()
        response = manager_client.post(url, data)
        assert response.status_code == 302, (url, page_text(response)[:3000])
        assert settings_version() != version, url


@pytest.mark.parametrize("role", sorted(ROLE_MAKERS))
def test_sla_link_in_the_navigation_for_managers_only(client, db, role):
    client.force_login(ROLE_MAKERS[role]())
    page = page_text(client.get("/kb/"))
    assert ('href="/sla/"' in page) == (role == "manager")


# --------------------------------------------------------------------------- calendars


def test_calendar_list_shows_zones_hours_and_use(manager_client):
    page = page_text(manager_client.get("/sla/calendars/"))
    assert "Office hours" in page and "24x7" in page
    assert "Mon-Fri 09:00-17:00" in page


def test_create_a_calendar_with_overnight_shift_and_holidays(manager_client):
    version = settings_version()
    data = calendar_data(
        intervals=[*WEEKDAYS_9_TO_5, (4, "22:00", "02:00")],
        holidays=[("2026-12-25", "Christmas", True), ("2026-04-03", "Good Friday", False)],
    )
    response = manager_client.post("/sla/calendars/new/", data, follow=True)
    assert response.redirect_chain[-1][0] == "/sla/calendars/"
    assert "Calendar “Support Berlin” created." in page_text(response)
    calendar = BusinessCalendar.objects.get(name="Support Berlin")
    assert calendar.timezone == "Europe/Berlin" and not calendar.always_open
    assert sorted(calendar.intervals.values_list("weekday", "start", "end")) == [
        *[(d, time(9), time(17)) for d in range(4)],
        (4, time(9), time(17)),
        (4, time(22), time(2)),
    ]
    assert sorted(calendar.holidays.values_list("day", "name", "yearly")) == [
        (date(2026, 4, 3), "Good Friday", False),
        (date(2026, 12, 25), "Christmas", True),
    ]
    assert settings_version() != version
    assert "Fri 22:00-02:00 (next day)" in page_text(manager_client.get("/sla/calendars/"))


def test_blank_extra_rows_are_ignored(manager_client):
    data = calendar_data(intervals=[(0, "09:00", "17:00")], holidays=[])
    data.update({"intervals-TOTAL_FORMS": "2", "intervals-1-weekday": ""})
    data.update({"intervals-1-start": "", "intervals-1-end": ""})
    data.update({"holidays-TOTAL_FORMS": "1", "holidays-0-day": "", "holidays-0-name": ""})
    assert manager_client.post("/sla/calendars/new/", data).status_code == 302
    calendar = BusinessCalendar.objects.get(name="Support Berlin")
    assert calendar.intervals.count() == 1 and calendar.holidays.count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            calendar_data(intervals=[(0, "09:00", "17:00"), (0, "16:00", "18:00")]),
            "Working interval Monday 09:00-17:00 overlaps Monday 16:00-18:00.",
        ),
        (
            # An overnight shift running into the next morning's interval.
            calendar_data(intervals=[(0, "22:00", "06:00"), (1, "05:00", "13:00")]),
            "Working interval Monday 22:00-06:00 overlaps Tuesday 05:00-13:00.",
        ),
        (
            # Sunday night into Monday morning.
            calendar_data(intervals=[(6, "20:00", "08:00"), (0, "07:00", "15:00")]),
            "overlaps",
        ),
        (calendar_data(timezone="Mars/Olympus_Mons", intervals=WEEKDAYS_9_TO_5), "Select a valid choice."),
        (calendar_data(intervals=[]), "The calendar has no working time"),
        (
            calendar_data(name="office HOURS", intervals=WEEKDAYS_9_TO_5),
            "A calendar named “office HOURS” already exists.",
        ),
        (
            calendar_data(intervals=WEEKDAYS_9_TO_5, holidays=[("2026-12-25", "a", False), ("2026-12-25", "b", True)]),
            "The holiday on 2026-12-25 is listed twice.",
        ),
        (calendar_data(intervals=[(0, "9 am", "17:00")]), "Enter a valid time."),
    ],
    ids=["overlap", "overnight-overlap", "sunday-night", "bad-zone", "no-time", "name-taken", "holiday-twice", "time"],
)
def test_invalid_calendar_is_shown_and_nothing_is_saved(manager_client, data, message):
    before = snapshot()
    response = manager_client.post("/sla/calendars/new/", data)
    assert response.status_code == 400
    page = page_text(response)
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in page or message in page
    assert "The calendar was not saved" in page
    assert 'role="alert"' in page
    assert snapshot() == before


def test_twenty_four_seven_needs_no_intervals(manager_client):
    response = manager_client.post("/sla/calendars/new/", calendar_data(name="Always", always_open=True))
    assert response.status_code == 302
    assert BusinessCalendar.objects.get(name="Always").always_open


def test_edit_replaces_intervals_and_holidays_in_one_go(manager_client):
    calendar = office()
    Holiday.objects.create(calendar=calendar, day=date(2026, 1, 1), name="New Year", yearly=True)
    page = page_text(manager_client.get(f"/sla/calendars/{calendar.pk}/"))
    assert 'value="New Year"' in page and 'value="09:00"' in page
    data = calendar_data(
        name="Office hours",
        timezone="America/New_York",
        intervals=[(0, "08:00", "12:00"), (0, "13:00", "17:00"), (1, "09:00", "17:00", "delete")],
        holidays=[],
        initial=3,
    )
    version = settings_version()
    assert manager_client.post(f"/sla/calendars/{calendar.pk}/", data).status_code == 302
    calendar.refresh_from_db()
    assert calendar.timezone == "America/New_York"
    assert sorted(calendar.intervals.values_list("weekday", "start", "end")) == [
        (0, time(8), time(12)),
        (0, time(13), time(17)),
    ]
    assert not calendar.holidays.exists()
    assert settings_version() != version


def test_invalid_edit_keeps_the_calendar_as_it_was(manager_client):
    calendar = office()
    before = snapshot()
    data = calendar_data(name="Office hours", intervals=[(2, "08:00", "18:00"), (2, "17:00", "19:00")], initial=2)
    response = manager_client.post(f"/sla/calendars/{calendar.pk}/", data)
    assert response.status_code == 400
    assert "Wednesday 08:00-18:00 overlaps Wednesday 17:00-19:00." in page_text(response)
    assert snapshot() == before


def test_a_calendar_in_use_cannot_be_deleted(manager_client):
    before = snapshot()
    for calendar in (office(), BusinessCalendar.objects.get(name="24x7")):  # policy calendar, target calendar
        page = page_text(manager_client.get(f"/sla/calendars/{calendar.pk}/"))
        assert "It cannot be deleted while" in page and "Standard" in page
        response = manager_client.post(f"/sla/calendars/{calendar.pk}/delete/", follow=True)
        assert "is in use by the policy “Standard” and cannot be deleted" in page_text(response)
    assert snapshot() == before


def test_an_unused_calendar_is_deleted(manager_client):
    calendar = BusinessCalendar.objects.create(name="Spare", timezone="UTC", always_open=True)
    version = settings_version()
    response = manager_client.post(f"/sla/calendars/{calendar.pk}/delete/", follow=True)
    assert "Calendar “Spare” deleted." in page_text(response)
    assert not BusinessCalendar.objects.filter(pk=calendar.pk).exists()
    assert settings_version() != version


def test_delete_needs_post(manager_client):
    calendar = BusinessCalendar.objects.create(name="Spare", timezone="UTC", always_open=True)
    assert manager_client.get(f"/sla/calendars/{calendar.pk}/delete/").status_code == 405
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_unknown_calendar_is_404(manager_client):
    assert manager_client.get("/sla/calendars/999999/").status_code == 404


def test_empty_calendar_list(manager_client):
    Target.objects.all().delete()
    Policy.objects.all().delete()
    BusinessCalendar.objects.all().delete()
    page = page_text(manager_client.get("/sla/calendars/"))
    assert "There are no calendars yet." in page


# --------------------------------------------------------------------------- policies


def test_policy_list_is_in_matching_order_with_the_default_last(manager_client):
    calendar = office()
    b = Policy.objects.create(name="B vendors", calendar=calendar, position=20, vendor=factories.VendorFactory())
    a = Policy.objects.create(name="A phone", calendar=calendar, position=10, channel="phone")
    page = page_text(manager_client.get("/sla/"))
    assert page.index("A phone") < page.index("B vendors") < page.index("Standard")
    assert "Channel Phone" in page and f"Vendor {b.vendor.name}" in page
    assert 'aria-label="Move “A phone” up"' in page
    assert a.pk and "Every ticket no policy above matches" in page


def test_policy_list_empty_state(manager_client):
    page = page_text(manager_client.get("/sla/"))
    assert "No policies with conditions yet" in page


def test_create_a_policy_with_a_targets_grid(manager_client):
    category = factories.CategoryFactory(name="Laptops")
    always = BusinessCalendar.objects.get(name="24x7")
    Policy.objects.create(name="Earlier", calendar=office(), position=50)
    version = settings_version()
    data = policy_data(
        name="Laptops",
        category=str(category.pk),
        channel="email",
        warning_percent="80",
        escalate_on_breach="on",
        targets={
            "first_response_0_p1": "15",
            "first_response_0_p1_calendar": str(always.pk),
            "resolution_0_p1": "240",
            "ola_2_p3": "480",
            "uc_0_p4": "6000",
        },
    )
    response = manager_client.post("/sla/policies/new/", data, follow=True)
    assert "Policy “Laptops” created." in page_text(response)
    policy = Policy.objects.get(name="Laptops")
    assert (policy.category, policy.channel, policy.warning_percent) == (category, "email", 80)
    assert policy.escalate_on_breach and policy.notify_assignee and not policy.is_default
    assert policy.position == 60  # after the last non-default policy
    assert sorted(policy.targets.values_list("metric", "priority", "tier", "seconds", "calendar_id")) == [
        ("first_response", 1, 0, 15 * 60, always.pk),
        ("ola", 3, 2, 480 * 60, None),
        ("resolution", 1, 0, 240 * 60, None),
        ("uc", 4, 0, 6000 * 60, None),
    ]
    assert settings_version() != version


def test_edit_shows_the_targets_and_saves_changes(manager_client):
    policy = default_policy()
    page = page_text(manager_client.get(f"/sla/policies/{policy.pk}/"))
    # 4 h resolution for P1 on the seeded default, shown as a duration with an accessible label;
    # P4 resolution is 10 office days of 8 hours (4,800 minutes), shown as 3 d 8 h.
    assert 'name="t-resolution_0_p1" value="4 h"' in page
    assert 'name="t-resolution_0_p4" value="3 d 8 h"' in page
    assert 'name="t-first_response_0_p1" value="15 min"' in page
    assert "Resolution, P1: target in business time (e.g. 8 h, 3 d, 90 min)" in page
    response = manager_client.post(
        f"/sla/policies/{policy.pk}/", policy_data(name="Standard", is_default=True, targets={"resolution_0_p2": "90"})
    )
    assert response.status_code == 302
    assert list(policy.targets.values_list("metric", "priority", "seconds")) == [("resolution", 2, 5400)]


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ({"resolution_0_p1": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"resolution_0_p1": "-5"}, "Ensure this value is greater than or equal to 1."),
        ({"resolution_0_p1": "1.5"}, "“1.5” is not a whole number of minutes."),
        ({"resolution_0_p1": "soon"}, "Enter a duration such as “90 min”, “8 h”, “3 d” or “1 d 4 h”"),
        ({"resolution_0_p1": "3 weeks"}, "“weeks” is not a unit: use d, h or min"),
        ({"resolution_0_p1": "1 h 2 h"}, "Name each unit once, as in “1 d 4 h”."),
        ({"resolution_0_p1": "3661 d"}, "A target can be at most 3660 d (ten years)."),
        ({}, "Give the policy at least one target."),
    ],
)
def test_bad_targets_are_refused_with_a_form_error(manager_client, targets, message):
    before = snapshot()
    response = manager_client.post("/sla/policies/new/", policy_data(targets=targets))
    assert response.status_code == 400
    assert message in page_text(response)
    assert snapshot() == before


def test_the_default_cannot_be_undefaulted(manager_client):
    policy = default_policy()
    before = snapshot()
    response = manager_client.post(f"/sla/policies/{policy.pk}/", policy_data(name="Standard", is_default=False))
    assert response.status_code == 400
    assert "There must always be a default policy" in page_text(response)
    assert snapshot() == before


def test_making_another_policy_the_default_moves_the_flag(manager_client):
    old = default_policy()
    version = settings_version()
    response = manager_client.post("/sla/policies/new/", policy_data(name="New default", is_default=True))
    assert response.status_code == 302
    assert list(Policy.objects.filter(is_default=True).values_list("name", flat=True)) == ["New default"]
    old.refresh_from_db()
    assert not old.is_default
    assert settings_version() != version
    # The old default is an ordinary policy now: it can be deleted.
    assert manager_client.post(f"/sla/policies/{old.pk}/delete/").status_code == 302
    assert not Policy.objects.filter(pk=old.pk).exists()


def test_the_default_policy_cannot_be_deleted(manager_client):
    policy = default_policy()
    page = page_text(manager_client.get(f"/sla/policies/{policy.pk}/"))
    assert "The default policy cannot be deleted." in page
    before = snapshot()
    response = manager_client.post(f"/sla/policies/{policy.pk}/delete/", follow=True)
    assert "is the default policy and cannot be deleted" in page_text(response)
    assert snapshot() == before


def test_delete_a_policy(manager_client):
    policy = Policy.objects.create(name="Spare", calendar=office(), position=10)
    version = settings_version()
    response = manager_client.post(f"/sla/policies/{policy.pk}/delete/", follow=True)
    assert "Policy “Spare” deleted." in page_text(response)
    assert not Policy.objects.filter(pk=policy.pk).exists()
    assert settings_version() != version


def test_duplicate_policy_name_is_refused(manager_client):
    before = snapshot()
    response = manager_client.post("/sla/policies/new/", policy_data(name="standard"))
    assert response.status_code == 400
    assert "A policy named “standard” already exists." in page_text(response)
    assert snapshot() == before


def test_move_policies_up_and_down(manager_client):
    calendar = office()
    a = Policy.objects.create(name="A", calendar=calendar, position=100)
    b = Policy.objects.create(name="B", calendar=calendar, position=100)
    c = Policy.objects.create(name="C", calendar=calendar, position=300)

    def order():
        return list(Policy.objects.filter(is_default=False).order_by("position", "pk").values_list("name", flat=True))

    version = settings_version()
    manager_client.post(f"/sla/policies/{c.pk}/move/", {"direction": "up"})
    assert order() == ["A", "C", "B"]
    assert settings_version() != version
    manager_client.post(f"/sla/policies/{a.pk}/move/", {"direction": "down"})
    assert order() == ["C", "A", "B"]
    before = snapshot()
    response = manager_client.post(f"/sla/policies/{b.pk}/move/", {"direction": "down"}, follow=True)
    assert "cannot move further down" in page_text(response)
    manager_client.post(f"/sla/policies/{b.pk}/move/", {"direction": "sideways"})
    assert snapshot() == before


# --------------------------------------------------------------------------- query counts


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_calendar_list_query_count_does_not_grow(manager_client, django_assert_num_queries):
    few = _count_queries(manager_client, "/sla/calendars/")
    for n in range(6):
        calendar = BusinessCalendar.objects.create(name=f"Calendar {n}", timezone="Europe/Berlin")
        WorkingInterval.objects.create(calendar=calendar, weekday=n, start=time(8), end=time(16))
        Holiday.objects.create(calendar=calendar, day=date(2026, 1, n + 1))
        Policy.objects.create(name=f"Policy {n}", calendar=calendar, position=n)
    with django_assert_num_queries(few):
        manager_client.get("/sla/calendars/")


def test_policy_list_query_count_does_not_grow(manager_client, django_assert_num_queries):
    few = _count_queries(manager_client, "/sla/")
    for n in range(6):
        parent = factories.CategoryFactory()
        policy = Policy.objects.create(
            name=f"Policy {n}",
            calendar=office(),
            position=n,
            category=factories.CategoryFactory(parent=parent),
            vendor=factories.VendorFactory(),
            requester_group=factories.group(f"Group {n}"),
        )
        Target.objects.create(policy=policy, metric="resolution", priority=1, seconds=3600)
    with django_assert_num_queries(few):
        manager_client.get("/sla/")
