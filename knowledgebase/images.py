"""Images uploaded into articles (screenshots): stored under generated keys, typed from their content.

The desk serves them itself (``/kb/images/<key>/``) to whoever may read the article, so the
pages keep their ``img-src 'self'`` policy and an image of a draft or an internal article
stays as private as its text. Only raster types a browser shows and cannot run are taken;
SVG, HTML or anything else is refused with a message naming the file.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from helpdesk.core.models import User
from tickets.services import clean_filename, validate_uploads
from tickets.services.attachments import sniff_content_type

from . import permissions
from .models import Article, ArticleImage

IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP"}
TYPE_NAMES = "PNG, JPEG, GIF or WebP"


def add_article_image(*, article_id: int, by: User, upload: UploadedFile) -> ArticleImage:
    """Store ``upload`` as an image of article ``article_id``, written by ``by``.

    Invariants: only a writer who may edit the article right now (``permissions.can_edit``:
    drafts and published articles, not in review or archived) uploads; the file is a PNG,
    JPEG, GIF or WebP image by its content (never by its name or the browser's word), not
    empty and within ``ATTACHMENT_MAX_BYTES``. Refusals raise ``PermissionDenied`` or
    ``ValidationError`` before anything is written.

    Side effects: the file is written under a generated key, then its row; if the row cannot
    be written the file is deleted again. The article's text is not changed: the writer
    pastes ``image.markdown`` where the picture belongs.
    """
    with transaction.atomic():
        try:
            article = Article.objects.select_for_update(of=("self",)).get(pk=article_id)
        except (Article.DoesNotExist, ValueError, TypeError):
            raise ValidationError("That article does not exist.") from None
        if not permissions.can_edit(by, article):
            raise PermissionDenied("You may not add images to this article now.")
        validate_uploads([upload])  # the attachments' rules: not empty, within ATTACHMENT_MAX_BYTES
        name = clean_filename(upload.name or "")
        content_type = sniff_content_type(upload)
        if content_type not in IMAGE_TYPES:
            raise ValidationError(f"“{name}” is not a {TYPE_NAMES} image.")
        size = upload.size
        assert size is not None  # an uploaded file always has a size; validate_uploads read it above
        image = ArticleImage(article=article, filename=name, content_type=content_type, size=size, uploaded_by=by)
        image.file.save("image", upload, save=False)
        try:
            image.save()
        except BaseException:
            image.file.delete(save=False)
            raise
    return image
