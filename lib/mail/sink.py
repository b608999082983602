"""A local SMTP server that delivers nowhere: each message it takes is kept in a Maildir
(stdlib `mailbox`: written in tmp/ then moved to new/, so a reader never sees half a message).

The demo (`mail_transport=sink`) runs it inside the server's process, on a free port, and the
page « Courriels envoyés » reads its Maildir: what each family would have received. The tests run
the same sink and may make it refuse chosen recipients (550)."""

from __future__ import annotations

import email
import mailbox
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

READY_TIMEOUT_S = 10.0
REFUSED = "550 5.1.1 Mailbox unavailable"


class MaildirSink:
    """aiosmtpd handler: keeps each message's bytes, as received, in a Maildir."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.box = mailbox.Maildir(self.directory, create=True)
        self._refused: dict[str, str] = {}
        self._lock = threading.Lock()

    def refuse(self, address: str, reply: str = REFUSED) -> None:
        """From now on, answer `reply` (550 unless told) to this recipient."""
        with self._lock:
            self._refused[address.lower()] = reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        with self._lock:
            refused = self._refused.get(address.lower())
        if refused:
            return refused
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            key = self.box.add(envelope.original_content or envelope.content)
        return f"250 2.0.0 Ok: queued as {key}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (aiosmtpd's Controller cannot be given port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sink(directory: str | Path, port: int | None = None, login: tuple[str, str] | None = None) -> Controller:
    """The sink listening on 127.0.0.1 (`port`, else a free one), in its own thread; `.port`,
    `.handler.refuse(address)`, `.stop()`. With `login` (user, password) it asks for them (AUTH
    PLAIN or LOGIN, without TLS: it only listens on this machine), as a town's relay would."""
    auth: dict[str, Any] = {}
    if login is not None:
        auth = {"authenticator": _Authenticator(*login), "auth_required": True, "auth_require_tls": False}
    controller = Controller(
        MaildirSink(directory), hostname="127.0.0.1", port=port or free_port(), ready_timeout=READY_TIMEOUT_S, **auth
    )
    controller.start()
    return controller


@dataclass(frozen=True)
class _Authenticator:
    user: str
    password: str

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user.encode(),
            self.password.encode(),
        )
        return AuthResult(success=good, handled=False)


@dataclass(frozen=True)
class Received:
    """One message found in a sink's Maildir."""

    message_id: str
    to_address: str
    to_name: str
    subject: str
    date: Any  # aware datetime, or None when the header is unreadable
    text: str
    message: EmailMessage


def received(directory: str | Path) -> list[Received]:
    """The messages of the Maildir, each Message-ID once (a resend after a crash is the same
    message), oldest first."""
    path = Path(directory)
    if not (path / "new").is_dir():
        return []
    box = mailbox.Maildir(path, create=False)
    seen: dict[str, Received] = {}
    for key in sorted(box.keys()):
        try:
            raw = box.get_bytes(key)
        except KeyError:  # removed meanwhile
            continue
        msg = email.message_from_bytes(raw, policy=default)
        assert isinstance(msg, EmailMessage)
        message_id = str(msg.get("Message-ID", key)).strip()
        if message_id in seen:
            continue
        seen[message_id] = _read(message_id, msg)
    return sorted(seen.values(), key=lambda r: (r.date is None, r.date or 0, r.message_id))


def _read(message_id: str, msg: EmailMessage) -> Received:
    name, address = (getaddresses([str(msg.get("To", ""))]) or [("", "")])[0]
    part = msg.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    try:
        when = parsedate_to_datetime(str(msg["Date"]))
    except (TypeError, ValueError):
        when = None
    return Received(message_id, address.lower(), name, str(msg.get("Subject", "")), when, text, msg)
