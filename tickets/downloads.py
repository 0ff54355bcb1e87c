"""The one way an attachment leaves the server: as a download, never rendered."""

from django.http import FileResponse, Http404
from rest_framework.renderers import JSONRenderer

from .models import Attachment
from .services import download_content_type


def attachment_response(attachment: Attachment) -> FileResponse:
    """A download of ``attachment``: ``Content-Disposition: attachment``, nosniff, a sandboxing CSP.

    The caller has already checked that the user may see the attachment (through its ticket).
    """
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise Http404("The file of this attachment is missing.") from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=download_content_type(attachment)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class AnyMediaRenderer(JSONRenderer):
    """Lets a download be asked for with any ``Accept`` (errors are still JSON)."""

    media_type = "*/*"
