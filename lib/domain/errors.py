"""Typed errors that carry the French sentence shown to people.

Every layer raises these; the pages catch `PortailError` and show `.message` with `st.error`.
"""

from __future__ import annotations


class PortailError(Exception):
    """Base class: `message` is a complete French sentence for the person using the portal."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(PortailError):
    """The person typed or chose something the rules refuse."""


class NotAllowed(PortailError):
    """The actor may not see or change this."""


class NotFound(PortailError):
    """The thing asked for does not exist (or is not visible to this actor)."""


class LoginRefused(PortailError):
    """Wrong e-mail or password, or a session that is no longer valid."""


class TooManyAttempts(LoginRefused):
    """Too many failed logins: the account or the address is paused for a while."""


class DatabaseUnavailable(PortailError):
    """The database file is held by another process, or cannot be opened."""


class WriteRefusedByDisk(DatabaseUnavailable):
    """The disk refused a transaction (full, quota, I/O error): nothing of it was kept. Its message says
    so, more precisely than « the database is out of reach »."""
