"""Permission matrix of the ticket API: every role x endpoint has an expected outcome.

Two tickets, both requested by A: one in tier 1, one escalated to vendor X (tier 4). Each
carries a public reply, an internal note and a file on each. A refused request changes nothing.
"""

import pytest

from tests.tickets.test_api_support import ROLES, api, build_world, snapshot, upload
from tickets.models import Tier


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world()


# How each role stands towards each ticket.
STANDING = {
    "desk": {
        "requester_a": "follower",
        "requester_b": "hidden",
        "agent_t1": "worker",
        "agent_t3": "hidden",
        "vendor_x": "hidden",
        "vendor_y": "hidden",
        "manager": "worker",
        "anonymous": "anonymous",
    },
    "vendor": {
        "requester_a": "follower",
        "requester_b": "hidden",
        "agent_t1": "hidden",
        "agent_t3": "hidden",
        "vendor_x": "follower",
        "vendor_y": "hidden",
        "manager": "worker",
        "anonymous": "anonymous",
    },
}
CASES = [(scene, role) for scene in STANDING for role in ROLES]
ANONYMOUS = (401, 403)


def expect(scene: str, role: str, follower: int, worker: int) -> tuple[int, ...]:
    standing = STANDING[scene][role]
    return {"follower": (follower,), "worker": (worker,), "hidden": (404,), "anonymous": ANONYMOUS}[standing]


def _setup(world, scene_name, role):
    return world.people[role], getattr(world, scene_name)


def _check_refusal(response, expected, before, ticket):
    assert response.status_code in expected, response.content
    assert response["Content-Type"].startswith("application/json")
    if response.status_code >= 400:
        assert response.json()["detail"]
        assert snapshot(ticket) == before


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_list_shows_the_ticket_only_to_those_who_may_see_it(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    response = api(user).get("/api/tickets/")
    if role == "anonymous":
        assert response.status_code in ANONYMOUS
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert (scene.ticket.pk in ids) == (STANDING[scene_name][role] != "hidden")


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_retrieve(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    response = api(user).get(f"/api/tickets/{scene.ticket.pk}/")
    assert response.status_code in expect(scene_name, role, 200, 200)
    if response.status_code == 200:
        body = response.json()
        assert body["reference"] == scene.ticket.reference
        assert ("priority_reason" in body) == (STANDING[scene_name][role] == "worker")


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_messages_list_hides_internal_notes_from_requesters_and_vendors(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    response = api(user).get(f"/api/tickets/{scene.ticket.pk}/messages/")
    assert response.status_code in expect(scene_name, role, 200, 200)
    if response.status_code != 200:
        return
    rows = response.json()
    ids = {row["id"] for row in rows}
    assert scene.public_message.pk in ids
    sees_internal = STANDING[scene_name][role] == "worker"
    assert (scene.note.pk in ids) == sees_internal
    assert any(row["kind"] == "internal" for row in rows) == sees_internal
    assert ("INTERNAL" in response.content.decode()) == sees_internal
    files = {f["id"] for row in rows for f in row["attachments"]}
    assert (scene.note_file.pk in files) == sees_internal


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_events_hide_internal_history_from_requesters_and_vendors(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    response = api(user).get(f"/api/tickets/{scene.ticket.pk}/events/")
    assert response.status_code in expect(scene_name, role, 200, 200)
    if response.status_code != 200:
        return
    events = response.json()
    assert any(e["kind"] == "created" for e in events)
    internal = scene.ticket.events.filter(internal=True)
    assert internal.exists()
    shown = {e["id"] for e in events}
    sees_internal = STANDING[scene_name][role] == "worker"
    assert all((event.pk in shown) == sees_internal for event in internal)
    assert ("secret.txt" in response.content.decode()) == sees_internal  # the note's file


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_attachment_list_hides_files_of_internal_notes(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    response = api(user).get(f"/api/tickets/{scene.ticket.pk}/attachments/")
    assert response.status_code in expect(scene_name, role, 200, 200)
    if response.status_code == 200:
        ids = {row["id"] for row in response.json()}
        assert scene.public_file.pk in ids
        assert (scene.note_file.pk in ids) == (STANDING[scene_name][role] == "worker")


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_post_reply(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    before = snapshot(scene.ticket)
    response = api(user).post(f"/api/tickets/{scene.ticket.pk}/messages/", {"body": "Any news?"}, format="json")
    _check_refusal(response, expect(scene_name, role, 201, 201), before, scene.ticket)
    if response.status_code == 201:
        message = scene.ticket.messages.get(pk=response.json()["id"])
        assert (message.kind, message.author, message.channel) == ("public", user, "api")


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_post_internal_note(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    before = snapshot(scene.ticket)
    response = api(user).post(
        f"/api/tickets/{scene.ticket.pk}/messages/", {"body": "Between us", "kind": "internal"}, format="json"
    )
    _check_refusal(response, expect(scene_name, role, 403, 201), before, scene.ticket)
    if response.status_code == 201:
        assert scene.ticket.messages.get(pk=response.json()["id"]).kind == "internal"


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_escalate(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    before = snapshot(scene.ticket)
    # A worker may escalate the tier-1 ticket; tier 4 is the top, so that one is refused (400).
    worker_status = 200 if scene.ticket.tier == Tier.T1 else 400
    response = api(user).post(
        f"/api/tickets/{scene.ticket.pk}/escalate/", {"reason": "Needs a technician"}, format="json"
    )
    _check_refusal(response, expect(scene_name, role, 403, worker_status), before, scene.ticket)
    if response.status_code == 200:
        scene.ticket.refresh_from_db()
        assert scene.ticket.tier == Tier.T2
        assert response.json()["tier"] == Tier.T2


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_claim(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    before = snapshot(scene.ticket)
    response = api(user).post(f"/api/tickets/{scene.ticket.pk}/claim/", format="json")
    _check_refusal(response, expect(scene_name, role, 403, 200), before, scene.ticket)
    if response.status_code == 200:
        scene.ticket.refresh_from_db()
        assert scene.ticket.assignee == user
        assert response.json()["assignee"]["id"] == user.pk


@pytest.mark.parametrize(("scene_name", "role"), CASES)
@pytest.mark.parametrize("which", ["public_file", "note_file"])
def test_attachment_download(world, scene_name, role, which):
    user, scene = _setup(world, scene_name, role)
    attachment = getattr(scene, which)
    follower = 200 if which == "public_file" else 404
    response = api(user).get(f"/api/tickets/{scene.ticket.pk}/attachments/{attachment.pk}/download/")
    assert response.status_code in expect(scene_name, role, follower, 200)
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == b"some log lines\n"
        assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(("scene_name", "role"), CASES)
def test_patch_category_and_priority(world, scene_name, role):
    user, scene = _setup(world, scene_name, role)
    before = snapshot(scene.ticket)
    response = api(user).patch(f"/api/tickets/{scene.ticket.pk}/", {"impact": "high", "urgency": "high"}, format="json")
    _check_refusal(response, expect(scene_name, role, 400, 200), before, scene.ticket)
    if response.status_code == 200:
        assert response.json()["priority"] == 1
    elif response.status_code == 400:
        assert response.json()["detail"] == "These fields are read-only: impact, urgency"


# Every endpoint of a ticket, with a body that would be accepted from someone allowed.
ENDPOINTS = [
    ("get", "/", None),
    ("patch", "/", {"impact": "low"}),
    ("get", "/messages/", None),
    ("post", "/messages/", {"body": "hello"}),
    ("get", "/attachments/", None),
    ("post", "/attachments/", "upload"),
    ("get", "/attachments/{public_file}/download/", None),
    ("get", "/events/", None),
    ("post", "/claim/", {}),
    ("post", "/escalate/", {"reason": "why"}),
    ("post", "/deescalate/", {"reason": "why"}),
    ("post", "/transition/", {"status": "open"}),
    ("post", "/resolve/", {"resolution_note": "fixed"}),
    ("post", "/reopen/", {"reason": "again"}),
    ("post", "/confirm/", {}),
    ("post", "/notify-managers/", {"reason": "slow"}),
    ("post", "/open-swarm/", {}),
    ("post", "/join-swarm/", {}),
    ("post", "/merge/", {"into": 1}),
    ("post", "/link-problem/", {"problem": None}),
]


@pytest.mark.parametrize("role", ["requester_b", "agent_t3", "vendor_y"])
@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
def test_a_hidden_ticket_is_404_on_every_endpoint(world, role, method, suffix, body):
    user, scene = _setup(world, "desk" if role != "vendor_y" else "vendor", role)
    before = snapshot(scene.ticket)
    path = f"/api/tickets/{scene.ticket.pk}{suffix.format(public_file=scene.public_file.pk)}"
    client = api(user)
    if body == "upload":
        response = client.post(path, {"file": upload()}, format="multipart")
    elif body is None:
        response = getattr(client, method)(path)
    else:
        response = getattr(client, method)(path, body, format="json")
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "Not found."}
    assert snapshot(scene.ticket) == before


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
def test_anonymous_is_refused_everywhere(world, method, suffix, body):
    scene = world.desk
    before = snapshot(scene.ticket)
    path = f"/api/tickets/{scene.ticket.pk}{suffix.format(public_file=scene.public_file.pk)}"
    client = api()
    if method == "get":
        response = client.get(path)
    else:
        response = getattr(client, method)(path, body if isinstance(body, dict) else {}, format="json")
    assert response.status_code in ANONYMOUS
    assert "credentials" in response.json()["detail"]
    assert snapshot(scene.ticket) == before


def test_vendor_x_never_sees_vendor_y_tickets_in_any_list(world):
    other = world.vendor.ticket
    vendor_y = world.people["vendor_y"]
    response = api(vendor_y).get("/api/tickets/", {"q": other.reference})
    assert response.json()["results"] == []
    response = api(world.people["vendor_x"]).get("/api/tickets/")
    assert [row["id"] for row in response.json()["results"]] == [other.pk]
