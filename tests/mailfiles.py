"""Reading what a Celery worker mailed through Django's file e-mail backend.

The file backend names a file after the second and the backend object's ``id()``, and appends, so
one file can hold several messages (one connection's, or two connections that reused an ``id`` in
the same second). Messages in a file are separated by a line of 79 dashes.
"""

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def mails_in(folder: Path) -> list[EmailMessage]:
    """Every message the file backend wrote into ``folder``, in file order."""
    found = []
    for path in sorted(folder.iterdir()):
        for chunk in path.read_bytes().split(SEPARATOR):
            if chunk.strip():
                found.append(message_from_bytes(chunk.lstrip(), policy=policy.default))
    return found
