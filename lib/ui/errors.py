"""The last safety net of every page: an error no page caught is shown in French, never in
Streamlit's English box, and written to the server's log with a reference the person can quote."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from lib.domain.errors import PortailError

_log = logging.getLogger("portail")


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
    except PortailError as exc:
        st.error(exc.message)
    except Exception:
        reference = secrets.token_hex(3)
        _log.exception("Unexpected error on a page (reference %s)", reference)
        st.error(unexpected_error_message(reference))
