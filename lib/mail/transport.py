"""SMTP with the standard library: one connection for a batch of messages, one recipient each.

What can go wrong is sorted into three classes, each with its French sentence:
- `TransportDown`: the server cannot be reached or will not take anything from us (connection
  refused, timeout, disconnected, authentication, TLS, our sender refused). Nothing is wrong with
  the messages: the whole batch waits, and their tries are not counted.
- `Temporary`: a 4xx answer to this recipient or this message: try it again later.
- `Permanent`: a 5xx answer: the message fails at once, with the server's reply.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from types import TracebackType

from lib.domain.errors import PortailError

TIMEOUT_S = 20.0
SECURITIES = ("starttls", "ssl", "none")


class MailError(PortailError):
    """A message, or the batch, was not handed over."""


class TransportDown(MailError):
    """The server cannot be reached or refuses us: the batch waits, its tries not counted."""


class Temporary(MailError):
    """4xx: this message is tried again later."""


class Permanent(MailError):
    """5xx: this message failed for good."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # starttls | ssl | none
    user: str = ""
    password: str = ""
    timeout_s: float = TIMEOUT_S

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return " ".join(f"{code} {words}".split())


class Connection:
    """An open, authenticated SMTP session (`with connect(settings) as smtp: smtp.send(…)`)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp = self._open()

    def _down(self, what: str) -> TransportDown:
        return TransportDown(f"Serveur d'envoi {self.settings.where} {what}")

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
                if s.security == "starttls":
                    smtp.starttls(context=context)
            if s.user:
                smtp.login(s.user, s.password)
            return smtp
        except smtplib.SMTPAuthenticationError as exc:
            raise self._down(f"a refusé l'identifiant {s.user} : {_reply(exc.smtp_code, exc.smtp_error)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise self._down(f"ne propose pas STARTTLS ou l'authentification ({exc}).") from exc
        except ssl.SSLError as exc:
            raise self._down(f"injoignable en TLS : {exc.reason or exc}.") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise self._down(f"injoignable : {_os_words(exc)}.") from exc

    def send(self, message: EmailMessage, sender: str, recipient: str) -> str:
        """Hand one message over; the server's reply (« 250 2.0.0 Ok: queued as … »)."""
        smtp = self._smtp
        try:
            smtp.ehlo_or_helo_if_needed()
            code, text = smtp.mail(sender)
            if code != 250:
                self._reset()
                raise self._down(f"refuse l'expéditeur {sender} : {_reply(code, text)}")
            code, text = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._reset()
                raise _refusal(code, text, f"le destinataire {recipient}")
            code, text = smtp.data(message.as_bytes(policy=SMTP))
            if code != 250:
                self._reset()
                raise _refusal(code, text, "le message")
            return _reply(code, text)
        except MailError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise self._down(f"a coupé la connexion : {_os_words(exc)}.") from exc

    def _reset(self) -> None:
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            pass  # the next command will tell whether the connection is still there

    def close(self) -> None:
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def connect(settings: SmtpSettings) -> Connection:
    """Open the session; TransportDown (French) when the server cannot be reached or refuses us."""
    return Connection(settings)


def _refusal(code: int, text: bytes, what: str) -> MailError:
    reply = _reply(code, text)
    if 400 <= code < 500:
        return Temporary(f"Refus temporaire du serveur d'envoi pour {what} : {reply}")
    return Permanent(f"Refusé par le serveur d'envoi pour {what} : {reply}")


def _os_words(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(exc, TimeoutError):
        return "pas de réponse (délai dépassé)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connexion interrompue"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return str(exc) or type(exc).__name__
