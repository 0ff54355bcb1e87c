"""Satisfaction surveys: one per resolution, mailed through the outbox, answered by link or on the ticket page."""

import datetime as dt

import pytest
import time_machine
from django.core import mail, signing

from helpdesk.core.models import OutboxMessage
from reports import surveys
from reports.models import Survey
from reports.tasks import send_survey_task
from tests import factories
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(db):
    requester, agent = factories.make_requester(), factories.make_agent(1)
    ticket = factories.make_ticket(requester)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Done.")
    return requester, agent, ticket


def test_resolution_creates_one_survey_and_queues_its_mail_once(resolved):
    _, agent, ticket = resolved
    survey = Survey.objects.get(ticket=ticket)
    assert survey.cycle == 1 and survey.score is None
    message = OutboxMessage.objects.get(task="reports.tasks.send_survey_task")
    assert message.kwargs == {"survey_id": survey.pk}
    assert send_survey_task(survey_id=survey.pk) == 1
    assert send_survey_task(survey_id=survey.pk) == 0  # a second run sends nothing
    assert len(mail.outbox) == 1 and "/survey/" in mail.outbox[0].body
    services.reopen_ticket(ticket_id=ticket.pk, by=agent)
    services.resolve_ticket(ticket_id=ticket.pk, by=agent, resolution_note="Really done.")
    assert list(Survey.objects.filter(ticket=ticket).values_list("cycle", flat=True)) == [1, 2]


def test_signed_link_answers_without_login_and_changes_until_closed(client, resolved):
    requester, _, ticket = resolved
    survey = Survey.objects.get(ticket=ticket)
    url = f"/survey/{surveys.survey_token(survey)}/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"score": "4", "comment": "Good"}).status_code == 200
    assert client.post(url, {"score": "2"}).status_code == 200
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (2, "")
    services.confirm_resolution(ticket_id=ticket.pk, by=requester)
    assert client.post(url, {"score": "5"}).status_code == 400
    survey.refresh_from_db()
    assert survey.score == 2


def test_forged_or_expired_links_are_refused(client, resolved):
    survey = Survey.objects.get(ticket=resolved[2])
    assert client.get("/survey/forged/").status_code == 400
    token = surveys.survey_token(survey)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        assert client.get(f"/survey/{token}/").status_code == 400
    other = signing.dumps({"survey": survey.pk}, salt="something-else")
    assert client.get(f"/survey/{other}/").status_code == 400


def test_ticket_page_panel_form_for_the_requester_answers_for_staff(client, resolved):
    requester, agent, ticket = resolved
    client.force_login(requester)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="survey-panel"' in page and 'name="score"' in page
    survey = Survey.objects.get(ticket=ticket)
    client.post(f"/surveys/{survey.pk}/answer/", {"score": "5", "comment": "Thanks!"})
    survey.refresh_from_db()
    assert survey.score == 5
    client.force_login(agent)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert "5/5" in page and "Thanks!" in page and 'name="score"' not in page
    other = factories.make_requester()
    client.force_login(other)
    client.post(f"/surveys/{survey.pk}/answer/", {"score": "1"})
    survey.refresh_from_db()
    assert survey.score == 5
