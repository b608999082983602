"""The e-mails the portal sends, as data: a `Letter` (its kind, subject, paragraphs, listed lines, an
optional link and reference) rendered to plain text and to HTML with the town's signature.

Builders of each kind's letter live beside this module by topic (accounts, bookings, invoices); they
only build `Letter`s, and this module is the one place that turns a letter into text and HTML.
Everything a person typed (names, reasons) passes through `one_line`: a line break in a name must
neither break a header (the standard library refuses it, and the change being reported would roll
back) nor start a new paragraph. No letter ever carries health data."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from enum import StrEnum


class MailKind(StrEnum):
    """Every kind of message; the values are the outbox's `kind` column (checked against the schema)."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"
    EMAIL_CHANGE = "email_change"
    EMAIL_CHANGED_NOTICE = "email_changed_notice"
    PASSWORD_CHANGED = "password_changed"
    BOOKING_RECEIPT = "booking_receipt"
    WAITING_PLACE = "waiting_place"
    CLOSURE = "closure"
    INVOICE_PUBLISHED = "invoice_published"
    PAYMENT_RECEIPT = "payment_receipt"
    UNPAID_REMINDER = "unpaid_reminder"
    DIRECT_DEBIT_NOTICE = "direct_debit_notice"
    DIRECT_DEBIT_REJECTED = "direct_debit_rejected"
    TEST = "test"

    @property
    def label(self) -> str:
        """The kind in French, for the outbox page and the preferences."""
        return _LABELS[self]

    @property
    def optional(self) -> bool:
        """A family may turn this kind off (« Mon compte » → « Courriels »); the others always go."""
        return self in OPTIONAL


class MailState(StrEnum):
    """Where a message is: the outbox's `state` column (checked against the schema)."""

    WAITING = "waiting"  # to be tried at `not_before`
    SENDING = "sending"  # claimed by the worker (back to waiting at the server's start)
    SENT = "sent"  # the SMTP server took it
    FAILED = "failed"  # refused for good, or undelivered for too long: the administrator may resend
    CANCELLED = "cancelled"  # withdrawn by the administrator, or no longer true (an invoice paid meanwhile)

    @property
    def label(self) -> str:
        return {
            MailState.WAITING: "en attente",
            MailState.SENDING: "en cours d'envoi",
            MailState.SENT: "envoyé",
            MailState.FAILED: "échec",
            MailState.CANCELLED: "annulé",
        }[self]


_LABELS = {
    MailKind.INVITATION: "Invitation à créer son mot de passe",
    MailKind.PASSWORD_RESET: "Mot de passe oublié",
    MailKind.EMAIL_CHANGE: "Confirmation d'une nouvelle adresse",
    MailKind.EMAIL_CHANGED_NOTICE: "Adresse e-mail modifiée",
    MailKind.PASSWORD_CHANGED: "Mot de passe modifié",
    MailKind.BOOKING_RECEIPT: "Accusé de réception des réservations",
    MailKind.WAITING_PLACE: "Place obtenue sur liste d'attente",
    MailKind.CLOSURE: "Fermeture ou grève",
    MailKind.INVOICE_PUBLISHED: "Nouvelle facture",
    MailKind.PAYMENT_RECEIPT: "Reçu de paiement",
    MailKind.UNPAID_REMINDER: "Relance de facture impayée",
    MailKind.DIRECT_DEBIT_NOTICE: "Avis de prélèvement",
    MailKind.DIRECT_DEBIT_REJECTED: "Prélèvement rejeté",
    MailKind.TEST: "Courriel d'essai",
}

# What a family may turn off: receipts of what it did itself. Everything else either carries a link
# it asked for, or tells of a change it did not make (a closure, a place, an invoice, a reminder).
OPTIONAL = frozenset({MailKind.BOOKING_RECEIPT, MailKind.PAYMENT_RECEIPT})

SUBJECT_LIMIT = 150
NAME_LIMIT = 80
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(text: object, limit: int = 200) -> str:
    """`text` on one line (line breaks and control characters become spaces), at most `limit`
    characters (an ellipsis marks a cut)."""
    flat = " ".join(_CONTROL.sub(" ", str(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Link:
    label: str  # the button's words: « Choisir mon mot de passe »
    url: str  # absolute: built from the portal's public address only


@dataclass(frozen=True)
class Signature:
    """Who writes: the town's name and the address a family may answer or write to."""

    town: str
    contact_email: str = ""


@dataclass(frozen=True)
class Letter:
    kind: MailKind
    subject: str
    paragraphs: tuple[str, ...]
    lines: tuple[str, ...] = ()  # listed after the paragraphs: days, invoices
    link: Link | None = None
    after: tuple[str, ...] = ()  # paragraphs after the list and the link
    reference: str = ""  # « J-000123 »: the audit entry a family can quote in a dispute
    secret_link: bool = False  # the link is a one-time secret: never shown in the outbox, redacted once sent
    payload: dict[str, object] = field(default_factory=dict, compare=False)  # what it was built from (JSON)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", one_line(self.subject, SUBJECT_LIMIT))


def greeting(name: str) -> str:
    return f"Bonjour {one_line(name, NAME_LIMIT)},"


def to_text(letter: Letter, signature: Signature) -> str:
    """The plain-text part."""
    parts: list[str] = list(letter.paragraphs)
    if letter.lines:
        parts.append("\n".join(f"- {line}" for line in letter.lines))
    if letter.link:
        parts.append(f"{letter.link.label} :\n{letter.link.url}")
    parts.extend(letter.after)
    if letter.reference:
        parts.append(f"Référence : {letter.reference}")
    parts.append(_closing(signature))
    return "\n\n".join(parts) + "\n"


def to_html(letter: Letter, signature: Signature) -> str:
    """The HTML part: the same words, escaped, in a layout that reads on a phone."""
    esc = html.escape
    body: list[str] = [f"<p>{esc(p)}</p>" for p in letter.paragraphs]
    if letter.lines:
        body.append("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in letter.lines) + "</ul>")
    if letter.link:
        url = esc(letter.link.url, quote=True)
        body.append(
            f'<p><a href="{url}" style="display:inline-block;padding:10px 16px;background:#1d4ed8;color:#ffffff;'
            f'text-decoration:none;border-radius:6px">{esc(letter.link.label)}</a></p>'
            f'<p style="font-size:13px;color:#444">Si le bouton ne marche pas, copiez cette adresse : {esc(url)}</p>'
        )
    body.extend(f"<p>{esc(p)}</p>" for p in letter.after)
    if letter.reference:
        body.append(f"<p>Référence : <strong>{esc(letter.reference)}</strong></p>")
    closing = esc(_closing(signature)).replace("\n", "<br>")
    body.append(f'<p style="color:#444">{closing}</p>')
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(letter.subject)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#111;'
        'max-width:600px;margin:0 auto;padding:12px">' + "".join(body) + "</body></html>"
    )


def _closing(signature: Signature) -> str:
    lines = [f"{one_line(signature.town, NAME_LIMIT)} — Portail Famille"]
    if signature.contact_email:
        lines.append(f"Une question ? Écrivez à {signature.contact_email}.")
    lines.append("Ce courriel est envoyé automatiquement.")
    return "\n".join(lines)


def trial_letter(name: str) -> Letter:
    """The administrator's « Envoyer un courriel d'essai »: proves the settings deliver."""
    return Letter(
        kind=MailKind.TEST,
        subject="Courriel d'essai du Portail Famille",
        paragraphs=(
            greeting(name),
            "Ce courriel d'essai montre que l'envoi des courriels du portail fonctionne.",
        ),
    )
