"""Real mail servers on loopback for the e-mail tests: aiosmtpd (SMTP) and Debian's dovecot (IMAP)."""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class CapturingHandler:
    """Accepts every message (keeping it), unless told to answer the next DATA commands with an error."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refusals: list[str] = []
        self.refusals_for: dict[str, list[str]] = {}  # recipient -> replies to give its next messages
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.refusals:
            return self.refusals.pop(0)
        for rcpt in envelope.rcpt_tos:
            if self.refusals_for.get(rcpt):
                return self.refusals_for[rcpt].pop(0)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 Ok: queued"

    def messages(self):
        return [message_from_bytes(content, policy=policy.default) for _, _, content in self.received]

    def recipients(self) -> list[list[str]]:
        return [rcpt for _, rcpt, _ in self.received]


class SmtpServer:
    """aiosmtpd on 127.0.0.1; ``stop``/``start`` make it go down and come back on the same port."""

    def __init__(self):
        self.port = free_port()
        self.handler = CapturingHandler()
        self.controller = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Dovecot:
    """Debian's dovecot as an unprivileged process: its own config, mail and sockets in a temp dir.

    One IMAP user (``helpdesk``/``secret``) with a Maildir; plain IMAP on a loopback port.
    """

    user_name = "helpdesk"
    password = "secret-imap-password"

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        self.port = free_port()
        # Never run a test server as root: as root, dovecot runs as nobody, and so do its children.
        account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self.uid, self.gid = account.pw_uid, account.pw_gid
        self.os_user = account.pw_name
        self.os_group = grp.getgrgid(self.gid).gr_name
        self.proc: subprocess.Popen | None = None

    def _config(self) -> str:
        root = self.root
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {self.os_user}
default_internal_user = {self.os_user}
default_internal_group = {self.os_group}
first_valid_uid = {self.uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  user = {self.os_user}
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {self.os_user}
  }}
  unix_listener stats-writer {{
    user = {self.os_user}
  }}
}}
"""

    def start(self) -> None:
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        (self.root / "passwd").write_text(f"{self.user_name}:{{PLAIN}}{self.password}::::::\n")
        (self.root / "dovecot.conf").write_text(self._config())
        for path in [self.root, *self.root.rglob("*")]:
            os.chown(path, self.uid, self.gid)
        kwargs = {"user": self.uid, "group": self.gid, "extra_groups": []} if os.geteuid() == 0 else {}
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=(self.root / "stdout.log").open("wb"),
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/sbin:/usr/bin:/bin"},
            **kwargs,
        )
        try:
            wait_for_port(self.port)
        except OSError:
            self.stop()
            raise RuntimeError(f"dovecot did not start:\n{self.log()}") from None

    def log(self) -> str:
        parts = []
        for name in ("stdout.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    @contextlib.contextmanager
    def client(self):
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user_name, self.password)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox the way a mail server would (IMAP APPEND, unseen)."""
        with self.client() as client:
            status, _ = client.append(folder, None, None, raw)
            assert status == "OK"

    def flags(self, folder: str = "INBOX") -> list[str]:
        """The flags of every message in ``folder``, in order."""
        with self.client() as client:
            client.select(folder)
            status, data = client.fetch("1:*", "(FLAGS)")
            if status != "OK" or data == [None]:
                return []
            return [item.decode() for item in data if isinstance(item, bytes)]

    def count(self, folder: str = "INBOX") -> int:
        with self.client() as client:
            _, data = client.select(folder)
            return int(data[0])
