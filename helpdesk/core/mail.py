"""A console e-mail backend for ``make run``: one line per mail instead of the whole MIME message.

Django's console backend prints every message in full (headers, both parts, base64
attachments), so the demo's notifications push the URL and the accounts out of sight. This
backend prints ``mail to a@example.com, b@example.com: <subject>`` and nothing else. Only the
local settings use it (``EMAIL_BACKEND`` still overrides); tests and production never do.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


def summary(message: EmailMessage) -> str:
    """The one line printed for ``message``: its recipients (to, cc and bcc) and its subject."""
    recipients = ", ".join(message.recipients()) or "nobody"
    return f"mail to {recipients}: {' '.join(str(message.subject).split())}"


class OneLineEmailBackend(BaseEmailBackend):
    """Writes one line per message to ``stream`` (the process's standard output unless given); sends nothing."""

    def __init__(self, *args: Any, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The process's own standard output: a Celery worker replaces ``sys.stdout`` with a proxy
        # that logs every write as a warning, which would wrap each line in a log record.
        self.stream = stream or sys.__stdout__ or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Print each message's summary; returns how many were "sent" (those with a recipient)."""
        sent = 0
        with self._lock:
            for message in email_messages:
                if not message.recipients():
                    continue
                self.stream.write(summary(message) + "\n")
                sent += 1
            self.stream.flush()
        return sent
