"""An outbox row as an `email.message.EmailMessage`: the text and its HTML alternative, the
stored Message-ID (the same bytes on every try, so a resend after a crash shows once), the
moment of the change as its Date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from lib.domain.errors import InvalidInput


@dataclass(frozen=True)
class Outgoing:
    """What a message is made of, as the outbox keeps it."""

    message_id: str
    to_address: str
    to_name: str
    subject: str
    body_text: str
    body_html: str
    created_at: datetime  # UTC-naive


def address(text: str) -> Address:
    """`« Ville de X <enfance@ville.fr> »` or `enfance@ville.fr` as a header address."""
    name, spec = parseaddr(text)
    if "@" not in spec:
        raise InvalidInput(f"Adresse d'expéditeur illisible : « {text[:80]} ».")
    return Address(display_name=name, addr_spec=spec)


def build(mail: Outgoing, sender: str, reply_to: str = "") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = address(sender)
    msg["To"] = Address(display_name=mail.to_name, addr_spec=mail.to_address)
    if reply_to:
        msg["Reply-To"] = address(reply_to)
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.created_at.replace(tzinfo=UTC))
    msg["Message-ID"] = mail.message_id
    msg["Content-Language"] = "fr"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office answers back
    # Quoted-printable: 8bit would need the server's 8BITMIME.
    msg.set_content(mail.body_text, cte="quoted-printable")
    msg.add_alternative(mail.body_html, subtype="html", cte="quoted-printable")
    return msg
