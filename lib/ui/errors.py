"""How a page shows what went wrong, in French, never in Streamlit's English box.

`refusals_shown` wraps a service call a person asked for: a `PortailError` (a refusal: a deadline
passed, a bad input, not allowed) is shown where the call was made, and the page goes on (or stops,
when what follows needs the call's answer). `shown_in_french` is the last safety net around every
page: an error no page caught is shown in French too, anything else as an apology with a
reference the person can quote, the traceback going to the server's log."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from lib.domain.errors import DatabaseUnavailable, PortailError, WriteRefusedByDisk
from lib.domain.markup import md

_log = logging.getLogger("portail")


class Refusal:
    """What `refusals_shown` yields: true once it has shown a refusal (the block did not finish)."""

    def __init__(self) -> None:
        self.shown = False

    def __bool__(self) -> bool:
        return self.shown


def _show_refusal(error: PortailError, *, as_info: bool = False) -> None:
    # md: a message may quote what someone typed (a child's name, a service's name).
    if as_info:
        st.info(md(error.message))
    else:
        st.error(md(error.message), icon="⛔")


@contextmanager
def refusals_shown(*, stop: bool = False, as_info: bool = False) -> Iterator[Refusal]:
    """Run the block; a `PortailError` it raises is shown here and goes no further. `stop`: the
    rest of the page needs the block's result, so the page ends after the message. `as_info`: the
    refusal explains an empty screen (no meal service that day, no registration yet) rather than
    a mistake, and is shown as information. Write the block's follow-up (a flash, a rerun) inside
    it: it then runs only when nothing was refused. (st.stop and st.rerun are BaseExceptions and
    pass.)"""
    refusal = Refusal()
    try:
        yield refusal
    except PortailError as error:
        refusal.shown = True
        _show_refusal(error, as_info=as_info)
        if stop:
            st.stop()


# The database out of reach (PostgreSQL stopped or restarting, the file held): what a visitor reads,
# without the server's address (the log has it).
DATABASE_DOWN = (
    "Le portail ne peut pas joindre sa base de données pour le moment : réessayez dans quelques minutes. "
    "Vos réservations déjà enregistrées sont conservées."
)


def database_down(error: DatabaseUnavailable) -> None:
    """Say the database is out of reach, in French, and end the page's run."""
    _log.warning("Base de données injoignable : %s", error.message)
    st.error(DATABASE_DOWN, icon="⛔")
    st.stop()


def unexpected_error_message(reference: str) -> str:
    return (
        "Une erreur inattendue empêche d'afficher cette page. Réessayez dans un instant ; si elle revient, "
        f"signalez-la au service éducation de la mairie en donnant la référence « {reference} »."
    )


@contextmanager
def shown_in_french() -> Iterator[None]:
    """Run a page: a PortailError it let through shows its French message; anything else a French
    apology with a reference, the traceback going to the log. (st.stop and st.rerun are
    BaseExceptions and pass.)"""
    try:
        yield
    except WriteRefusedByDisk as error:  # its own words: nothing was saved, tell the town's IT
        _show_refusal(error)
    except DatabaseUnavailable as error:
        database_down(error)
    except PortailError as error:
        _show_refusal(error)
    except Exception:
        reference = secrets.token_hex(3)
        _log.exception("Unexpected error on a page (reference %s)", reference)
        st.error(unexpected_error_message(reference))
