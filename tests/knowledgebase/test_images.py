"""Images in articles: writers upload them (typed from their content), the desk serves them to whoever
may read the article, and an image from elsewhere becomes a visible link instead of vanishing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from knowledgebase import services
from knowledgebase.models import ArticleImage, Visibility
from tests.knowledgebase.conftest import content

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64
BAD_FILES = [
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    ("page.png", b"<html><script>alert(1)</script></html>", "image/png"),  # a name and a header that lie
    ("notes.txt", b"just text", "text/plain"),
    ("archive.png", b"PK\x03\x04" + b"\x00" * 64, "image/png"),
]


def upload(client, article, name="screen.png", data=PNG, content_type="image/png"):
    return client.post(
        reverse("knowledgebase:article_image_add", args=[article.pk]),
        {"image": SimpleUploadedFile(name, data, content_type=content_type)},
    )


@pytest.fixture
def draft(people):
    return services.create_article(by=people["agent"], **content(title="Printer screen"))


def test_a_writer_uploads_an_image_and_gets_its_markdown(client, people, draft):
    client.force_login(people["agent"])
    response = upload(client, draft, name="Error dialog.png")
    assert response.status_code == 302
    image = ArticleImage.objects.get(article=draft)
    assert (image.content_type, image.size, image.filename) == ("image/png", len(PNG), "Error dialog.png")
    assert image.file.name.startswith("kb-images/") and "Error" not in image.file.name  # generated key
    assert image.markdown == f"![Error dialog](/kb/images/{image.key}/)"
    page = client.get(draft.get_manage_url()).content.decode()
    assert image.markdown in page
    # A GIF by another writer, on the same draft.
    client.force_login(people["manager"])
    assert upload(client, draft, name="x.gif", data=GIF, content_type="image/gif").status_code == 302
    assert ArticleImage.objects.filter(article=draft, content_type="image/gif").exists()


@pytest.mark.parametrize(("name", "data", "declared"), BAD_FILES)
def test_a_file_that_is_not_a_picture_is_refused_with_a_form_error(client, people, draft, name, data, declared):
    client.force_login(people["agent"])
    response = upload(client, draft, name=name, data=data, content_type=declared)
    assert response.status_code == 400
    assert "is not a PNG, JPEG, GIF or WebP image" in response.content.decode()
    assert not ArticleImage.objects.exists()


def test_an_empty_file_is_refused_with_a_form_error(client, people, draft):
    client.force_login(people["agent"])
    response = upload(client, draft, name="empty.png", data=b"")
    assert response.status_code == 400
    assert not ArticleImage.objects.exists()


@pytest.mark.parametrize("role", ["requester", "vendor"])
def test_readers_may_not_upload(client, people, draft, role):
    client.force_login(people[role])
    response = upload(client, draft)
    assert response.status_code in (302, 403, 404)
    assert not ArticleImage.objects.exists()


def test_no_upload_while_the_article_is_in_review(client, people, draft):
    services.submit_article(article_id=draft.pk, by=people["agent"])
    client.force_login(people["agent"])
    response = upload(client, draft)
    assert response.status_code == 302
    assert not ArticleImage.objects.exists()
    assert "send it back to draft" in client.get(response.url).content.decode()


def test_reloading_the_upload_address_lands_on_the_article(client, people, draft):
    client.force_login(people["agent"])
    response = client.get(reverse("knowledgebase:article_image_add", args=[draft.pk]))
    assert response.status_code == 302 and response.url == draft.get_manage_url()


def _article_with_image(people, **overrides):
    """A draft with an uploaded image placed in its body, published unless ``publish=False``."""
    publish = overrides.pop("publish", True)
    article = services.create_article(by=people["agent"], **content(**overrides))
    from knowledgebase.images import add_article_image

    image = add_article_image(
        article_id=article.pk, by=people["agent"], upload=SimpleUploadedFile("shot.png", PNG, "image/png")
    )
    services.update_article(
        article_id=article.pk,
        by=people["agent"],
        **content(**overrides, body=f"Click **Print**.\n\n{image.markdown}"),
    )
    if publish:
        services.submit_article(article_id=article.pk, by=people["agent"])
        services.publish_article(article_id=article.pk, by=people["manager"])
    return article, image


def test_a_reader_sees_the_image_of_a_published_article(client, people):
    article, image = _article_with_image(people)
    client.force_login(people["requester"])
    page = client.get(article.get_absolute_url())
    assert f'<img alt="shot" src="/kb/images/{image.key}/">' in page.content.decode()
    assert "img-src 'self'" in page["Content-Security-Policy"]
    response = client.get(image.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG


@pytest.mark.parametrize(
    ("case", "role", "status"),
    [
        ("draft", "requester", 404),
        ("draft", "vendor", 404),
        ("draft", "agent2", 200),  # writers see drafts, and their images
        ("internal", "requester", 404),
        ("internal", "vendor", 404),
        ("internal", "agent2", 200),
        ("archived", "requester", 404),
        ("public", "vendor", 200),
        ("public", "anonymous", 302),  # sign in first
    ],
)
def test_an_image_is_as_private_as_its_article(client, people, case, role, status):
    if case == "draft":
        article, image = _article_with_image(people, publish=False)
    elif case == "internal":
        article, image = _article_with_image(people, visibility=Visibility.INTERNAL)
    else:
        article, image = _article_with_image(people)
        if case == "archived":
            services.archive_article(article_id=article.pk, by=people["manager"])
    if role != "anonymous":
        client.force_login(people[role])
    assert client.get(image.get_absolute_url()).status_code == status


def test_an_unknown_image_is_a_404(client, people):
    client.force_login(people["agent"])
    assert client.get("/kb/images/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_an_image_from_elsewhere_becomes_a_visible_link(client, people, publish_as):
    article = publish_as(body="Before.\n\n![screenshot of the error](https://cdn.example.com/error.png)\n\nAfter.")
    client.force_login(people["requester"])
    body = client.get(article.get_absolute_url()).content.decode().split('id="kb-article-body">', 1)[1]
    body = body.split("</div>", 1)[0]
    assert '<a href="https://cdn.example.com/error.png" rel="noopener noreferrer nofollow">' in body
    assert "Image: screenshot of the error</a>" in body
    assert "<img" not in body
