"""REST API of the knowledge base: visibility per role, the workflow with JSON refusals, votes,
suggestions and deflections, fixed query counts, and the OpenAPI schema."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from knowledgebase import services
from knowledgebase.models import Article, ArticleStatus, ArticleVersion, Deflection, Visibility, Vote
from tests.knowledgebase.conftest import ROLES, STAFF_ROLES, content, publish
from tickets.models import Ticket


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None and user.is_authenticated:
        client.force_authenticate(user)
    return client


@pytest.fixture
def articles(people):
    public = publish(people["agent"], people["manager"], title="Reset your VPN password", summary="VPN self-service.")
    internal = publish(
        people["agent"],
        people["manager"],
        title="VPN failover runbook",
        summary="Internal VPN steps.",
        visibility=Visibility.INTERNAL,
    )
    draft = services.create_article(by=people["agent"], **content(title="VPN draft notes"))
    return {"public": public, "internal": internal, "draft": draft}


def ids(rows, key="id") -> set[int]:
    return {row[key] for row in rows}


@pytest.mark.parametrize("role", ROLES)
def test_internal_articles_never_reach_non_staff_through_the_api(people, articles, role):
    client = api(people[role])
    public, internal, draft = articles["public"], articles["internal"], articles["draft"]
    responses = {
        "list": client.get("/api/kb/articles/"),
        "search": client.get("/api/kb/search/", {"q": "vpn"}),
        "suggestions": client.get("/api/kb/suggestions/", {"q": "vpn"}),
        "internal": client.get(f"/api/kb/articles/{internal.pk}/"),
        "draft": client.get(f"/api/kb/articles/{draft.pk}/"),
    }
    if role == "anonymous":
        for name, response in responses.items():
            assert response.status_code == 401, name
            assert response.json()["detail"]
        return
    staff = role in STAFF_ROLES
    assert ids(responses["list"].json()["results"]) == ({public.pk, internal.pk, draft.pk} if staff else {public.pk})
    assert ids(responses["search"].json()["results"], "article") == ({public.pk, internal.pk} if staff else {public.pk})
    assert ids(responses["suggestions"].json(), "article") == ({public.pk, internal.pk} if staff else {public.pk})
    assert responses["internal"].status_code == (200 if staff else 404)
    assert responses["draft"].status_code == (200 if staff else 404)
    for response in responses.values():
        if not staff:
            assert "runbook" not in response.content.decode()
            assert "draft notes" not in response.content.decode()


def test_writers_see_status_and_working_copy_readers_do_not(people, articles):
    public = articles["public"]
    services.update_article(article_id=public.pk, by=people["agent"], title="Reset your VPN password (new)")
    staff = api(people["manager"]).get(f"/api/kb/articles/{public.pk}/").json()
    assert staff["status"] == ArticleStatus.DRAFT
    assert staff["draft"]["title"] == "Reset your VPN password (new)"
    assert staff["live"]["title"] == "Reset your VPN password"
    reader = api(people["requester"]).get(f"/api/kb/articles/{public.pk}/").json()
    assert "draft" not in reader and "status" not in reader
    assert reader["live"]["title"] == "Reset your VPN password"
    assert reader["live"]["reviewer"]["id"] == people["manager"].pk


def test_workflow_through_the_api(people):
    agent, agent2 = api(people["agent"]), api(people["agent2"])
    created = agent.post(
        "/api/kb/articles/",
        {
            "title": "Teams has no sound",
            "summary": "Pick the headset.",
            "body": "Settings > Devices.",
            "tags": ["teams"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created["Location"].endswith(f"/api/kb/articles/{pk}/")
    assert agent.post(f"/api/kb/articles/{pk}/submit/", {}, format="json").status_code == 200
    refused = agent.post(f"/api/kb/articles/{pk}/publish/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["detail"]
    published = agent2.post(f"/api/kb/articles/{pk}/publish/", {}, format="json")
    assert published.status_code == 200
    assert published.json()["live"]["number"] == 1
    patched = agent2.patch(f"/api/kb/articles/{pk}/", {"body": "Settings > Devices > Speaker."}, format="json")
    assert patched.json()["status"] == "draft"
    agent2.post(f"/api/kb/articles/{pk}/submit/", {}, format="json")
    agent.post(f"/api/kb/articles/{pk}/publish/", {}, format="json")
    versions = agent.get(f"/api/kb/articles/{pk}/versions/").json()
    assert [v["number"] for v in versions] == [2, 1]
    diff = agent.get(f"/api/kb/articles/{pk}/diff/", {"from": 1, "to": 2}).json()
    assert diff == [
        {
            "field": "body",
            "label": "Body",
            "lines": [
                {"kind": "hunk", "text": "@@ -1 +1 @@"},
                {"kind": "del", "text": "Settings > Devices."},
                {"kind": "add", "text": "Settings > Devices > Speaker."},
            ],
        }
    ]


def snapshot():
    return (
        list(Article.objects.order_by("pk").values_list("pk", "status", "title", "updated_by_id")),
        list(ArticleVersion.objects.order_by("pk").values_list("pk", "is_live")),
    )


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("requester", "post", "/api/kb/articles/", {"title": "t", "summary": "s", "body": "b"}, 403),
        ("vendor", "post", "/api/kb/articles/", {"title": "t", "summary": "s", "body": "b"}, 403),
        ("agent", "post", "/api/kb/articles/", {"title": "", "summary": "s", "body": "b"}, 400),
        ("agent", "post", "/api/kb/articles/", {"title": "t", "summary": "s", "body": "b", "status": "published"}, 400),
        (
            "agent",
            "post",
            "/api/kb/articles/",
            {"title": "t", "summary": "s", "body": "b", "is_known_error": True},
            400,
        ),
        ("requester", "patch", "/api/kb/articles/{public}/", {"title": "Hacked"}, 403),
        ("requester", "post", "/api/kb/articles/{public}/archive/", {}, 403),
        ("agent", "post", "/api/kb/articles/{public}/archive/", {}, 403),
        ("agent", "post", "/api/kb/articles/{public}/publish/", {}, 400),
        ("agent", "post", "/api/kb/articles/{draft}/publish/", {}, 400),
        ("agent", "post", "/api/kb/articles/{review}/send-back/", {"note": ""}, 400),
        ("agent", "patch", "/api/kb/articles/{review}/", {"title": "Changed in review"}, 400),
        ("manager", "post", "/api/kb/articles/{draft}/restore/", {}, 400),
        ("requester", "post", "/api/kb/articles/{internal}/vote/", {"helpful": True}, 404),
        ("requester", "post", "/api/kb/articles/{public}/submit/", {}, 403),
        ("requester", "get", "/api/kb/articles/{public}/versions/", None, 403),
        ("agent", "post", "/api/kb/articles/{public}/vote/", {"helpful": "maybe"}, 400),
    ],
)
def test_refusals_are_json_and_write_nothing(people, articles, role, method, path, body, status):
    review = services.create_article(by=people["agent2"], **content(title="In review"))
    services.submit_article(article_id=review.pk, by=people["agent2"])
    path = path.format(
        public=articles["public"].pk, internal=articles["internal"].pk, draft=articles["draft"].pk, review=review.pk
    )
    before, votes = snapshot(), Vote.objects.count()
    client = api(people[role])
    response = getattr(client, method)(path, body, format="json") if body is not None else client.get(path)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert snapshot() == before
    assert Vote.objects.count() == votes


def test_votes_through_the_api(people, articles):
    public = articles["public"]
    response = api(people["requester"]).post(
        f"/api/kb/articles/{public.pk}/vote/", {"helpful": True, "comment": "Thanks"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"helpful": True, "comment": "Thanks", "helpful_count": 1, "not_helpful_count": 0}


def test_deflection_through_the_api_counts_once_per_token(people, articles):
    client = api(people["requester"])
    suggestions = client.get("/api/kb/suggestions/", {"q": "reset vpn"}).json()
    token = suggestions[0]["deflection_token"]
    first = client.post("/api/kb/deflections/", {"token": token}, format="json")
    second = client.post("/api/kb/deflections/", {"token": token}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["query"] == "reset vpn"
    assert Deflection.objects.count() == 1
    assert not Ticket.objects.exists()
    forged = client.post("/api/kb/deflections/", {"token": token + "x"}, format="json")
    assert forged.status_code == 400 and forged.json()["detail"]
    assert api(people["agent"]).post("/api/kb/deflections/", {"token": token}, format="json").status_code == 400
    assert Deflection.objects.count() == 1


def test_search_requires_a_query(people):
    response = api(people["requester"]).get("/api/kb/search/", {"q": "a"})
    assert response.status_code == 400
    assert "q" in response.json()["errors"]


def test_search_snippets_are_escaped_with_our_marks_only(people):
    publish(people["agent"], people["manager"], title="<b>printer</b>", body="<script>x</script> printer jam")
    result = api(people["requester"]).get("/api/kb/search/", {"q": "printer"}).json()["results"][0]
    assert result["title_html"] == "&lt;b&gt;<mark>printer</mark>&lt;/b&gt;"
    assert "<script>" not in result["snippet_html"]
    assert "<mark>printer</mark>" in result["snippet_html"]


@pytest.mark.parametrize("role", ["requester", "agent"])
@pytest.mark.parametrize("path", ["/api/kb/articles/", "/api/kb/search/?q=printer", "/api/kb/suggestions/?q=printer"])
def test_api_query_counts_are_fixed(people, role, path, django_assert_num_queries):
    def grow(start, count):
        for i in range(start, start + count):
            publish(people["agent"], people["manager"], title=f"Printer {i}", tags=["printing"])

    grow(0, 2)
    client = api(people[role])
    client.get(path)
    with CaptureQueriesContext(connection) as few:
        assert client.get(path).status_code == 200
    grow(2, 8)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(path).status_code == 200


def test_openapi_schema_validates_with_the_kb_endpoints(people):
    from io import StringIO

    from django.core.management import call_command

    err = StringIO()
    call_command("spectacular", "--validate", "--file", "/dev/null", stderr=err)  # raises on an invalid schema
    assert "knowledgebase" not in err.getvalue()
    assert "collision" not in err.getvalue()
    schema = api(people["agent"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/kb/search/", "/api/kb/suggestions/", "/api/kb/deflections/", "/api/kb/articles/{id}/publish/"):
        assert path in paths
