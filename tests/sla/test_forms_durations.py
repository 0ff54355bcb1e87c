"""SLA target durations: one parser for the policy page and the API ("8 h", "3 d", "90 min", "1 d 4 h")."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sla.configure import MAX_TARGET_MINUTES
from sla.forms import DurationMinutesField, duration_text, parse_duration_minutes
from sla.models import Policy
from tests import factories
from tests.sla.test_api import policy_body
from tests.sla.test_views import policy_data, snapshot
from tests.tickets.test_api_support import api


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("8 h", 480),
        ("3 d", 3 * 24 * 60),
        ("90 min", 90),
        ("1 d 4 h", 28 * 60),
        ("1d4h", 28 * 60),
        ("2 hours 15 minutes", 135),
        ("1 day", 1440),
        ("1.5 h", 90),
        ("45 m", 45),
        ("1440", 1440),
        ("  60  ", 60),
        ("8 H", 480),
    ],
)
def test_durations_people_type(text, minutes):
    assert parse_duration_minutes(text) == minutes


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("soon", "invalid"),
        ("", "invalid"),
        ("h", "invalid"),
        ("1 d 4", "invalid"),
        ("3 weeks", "invalid"),
        ("1,5 h", "invalid"),
        ("1 h 30 min 2 h", "repeated"),
        ("1.5", "fraction"),
        ("0.5 min", "fraction"),
    ],
)
def test_nonsense_is_refused_with_a_reason(text, code):
    with pytest.raises(ValidationError) as refused:
        parse_duration_minutes(text)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(1, "1 min"), (90, "1 h 30 min"), (480, "8 h"), (1440, "1 d"), (4800, "3 d 8 h"), (1441, "1 d 1 min")],
)
def test_stored_minutes_are_shown_as_a_duration(minutes, text):
    assert duration_text(minutes) == text


@given(st.integers(min_value=1, max_value=MAX_TARGET_MINUTES))
def test_the_shown_text_reads_back_as_the_same_minutes(minutes):
    assert parse_duration_minutes(duration_text(minutes)) == minutes


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-5", "Ensure this value is greater than or equal to 1."),
        (MAX_TARGET_MINUTES + 1, "A target can be at most 3660 d (ten years)."),
        (True, "Enter a duration such as"),
        (1.5, "Enter a duration such as"),
        ("1 d " * 20, "Enter a duration such as"),
    ],
)
def test_the_field_keeps_targets_within_bounds(value, message):
    with pytest.raises(ValidationError) as refused:
        DurationMinutesField().clean(value)
    assert message in " ".join(refused.value.messages)


def test_the_field_takes_json_numbers_as_minutes_and_shows_a_duration():
    field = DurationMinutesField()
    assert field.clean(240) == 240
    assert field.prepare_value(4800) == "3 d 8 h"
    assert field.prepare_value("1 d 4") == "1 d 4"  # typed input is shown back as it was


@pytest.mark.django_db
def test_the_policy_page_saves_durations(client):
    client.force_login(factories.make_manager())
    targets = {
        "first_response_0_p1": "15",
        "resolution_0_p1": "8 h",
        "resolution_0_p2": "3 d",
        "ola_1_p3": "90 min",
        "uc_0_p4": "1 d 4 h",
    }
    response = client.post("/sla/policies/new/", policy_data(name="Durations", targets=targets))
    assert response.status_code == 302
    policy = Policy.objects.get(name="Durations")
    assert sorted(policy.targets.values_list("metric", "priority", "seconds")) == [
        ("first_response", 1, 15 * 60),
        ("ola", 3, 90 * 60),
        ("resolution", 1, 8 * 3600),
        ("resolution", 2, 3 * 24 * 3600),
        ("uc", 4, 28 * 3600),
    ]
    page = client.get(f"/sla/policies/{policy.pk}/").content.decode()
    assert 'name="t-uc_0_p4" value="1 d 4 h"' in page and 'name="t-ola_1_p3" value="1 h 30 min"' in page


@pytest.mark.django_db
def test_a_refused_duration_keeps_what_was_typed(client):
    client.force_login(factories.make_manager())
    before = snapshot()
    response = client.post("/sla/policies/new/", policy_data(targets={"resolution_0_p1": "3 weeks"}))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'name="t-resolution_0_p1" value="3 weeks"' in page
    assert "“weeks” is not a unit: use d, h or min" in page
    assert snapshot() == before


@pytest.mark.django_db
def test_the_api_takes_minutes_or_the_same_durations():
    manager_api = api(factories.make_manager())
    targets = [
        {"metric": "first_response", "priority": 1, "minutes": 15},
        {"metric": "resolution", "priority": 1, "minutes": "8 h"},
        {"metric": "resolution", "priority": 2, "minutes": "1 d 4 h"},
    ]
    response = manager_api.post("/api/sla/policies/", policy_body(targets=targets), format="json")
    assert response.status_code == 201, response.content
    minutes = {(t["metric"], t["priority"]): t["minutes"] for t in response.json()["targets"]}
    assert minutes == {("first_response", 1): 15, ("resolution", 1): 480, ("resolution", 2): 1680}

    before = snapshot()
    for bad, message in (("soon", "Enter a duration such as"), (1.5, "Enter a duration such as"), ("0 h", "1.")):
        body = policy_body(name="Refused", targets=[{"metric": "resolution", "priority": 1, "minutes": bad}])
        response = manager_api.post("/api/sla/policies/", body, format="json")
        assert response.status_code == 400 and message in str(response.json()["errors"]["targets"])
    assert snapshot() == before
