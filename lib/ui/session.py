"""Who is logged in, the database, the clock: what every page needs first."""

from __future__ import annotations

from datetime import date, datetime

import streamlit as st

from lib.domain.actor import Actor
from lib.domain.errors import LoginRefused
from lib.domain.roles import Role
from lib.services import auth
from lib.services.config import clock_now, database
from lib.ui.errors import refusals_shown

# AppTest cannot send cookies: tests log in through the service and put the real token here.
TEST_TOKEN_KEY = "session_token"


def is_phone_agent(user_agent: str | None) -> bool:
    """A phone's browser ("Mobi" in its User-Agent, as MDN advises): such a page can leave out what
    only a wide screen shows, and the phone does not download it. Anything else gets both, and the
    CSS shows the one that fits the width."""
    return "Mobi" in (user_agent or "")


def on_a_phone() -> bool:
    return is_phone_agent(st.context.headers.get("User-Agent"))


def now() -> datetime:
    """The clock, in Paris: read here, at the edge, and passed down."""
    return clock_now()


def today() -> date:
    return now().date()


def db():
    """The database, or the page stops with why it cannot be opened."""
    with refusals_shown(stop=True):
        return database()


def session_token() -> str | None:
    token = st.context.cookies.get(auth.SESSION_COOKIE)
    if not isinstance(token, str):  # under AppTest the cookie jar is a stand-in object
        token = None
    return token or st.session_state.get(TEST_TOKEN_KEY)


def current_actor() -> Actor | None:
    try:
        return auth.actor_for_token(db(), session_token(), now())
    except LoginRefused:
        return None


def require_actor(*roles: Role) -> Actor:
    """The logged-in actor, or stop the page with a French message and a way to log in."""
    actor = current_actor()
    if actor is None:
        show_login_needed()
        st.stop()
    if roles and actor.role not in roles:
        st.error("Cette page n'est pas ouverte à votre profil.")
        st.stop()
    return actor


def logout_url(everywhere: bool = False) -> str | None:
    """The link that ends this session, or with `everywhere` every session of the account."""
    token = session_token()
    if not token:
        return None
    return f"/auth/logout?code={auth.logout_everywhere_code(token) if everywhere else auth.logout_code(token)}"


def show_login_needed() -> None:
    target = "/connexion"
    if session_token():
        st.warning(auth.SESSION_EXPIRED)
    else:
        st.info("Connectez-vous pour accéder au Portail Famille.")
    st.markdown(f'<a href="{target}" target="_self">Aller à la page de connexion</a>', unsafe_allow_html=True)
