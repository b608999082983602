"""The database out of reach while the portal runs (PostgreSQL stopped or restarting): every page
says so in French, without the server's address, and stops there (the browser walk through a
real outage is tests/tools/test_cluster.py's; the HTTP routes' 503 is lib/web/security.py's)."""

from streamlit.testing.v1 import AppTest

from lib.ui.errors import DATABASE_DOWN


def page(where: str) -> None:
    import streamlit as st

    from lib.domain.errors import DatabaseUnavailable
    from lib.ui.errors import database_down, shown_in_french

    down = DatabaseUnavailable("Le serveur PostgreSQL de « postgresql://portail@10.0.0.5/ville » ne répond pas.")
    if where == "router":  # app.py: finding who is logged in
        try:
            raise down
        except DatabaseUnavailable as error:
            database_down(error)
    else:
        with shown_in_french():  # a page's own read
            raise down
    st.markdown("après")


def test_the_router_says_it_in_french_and_stops():
    at = AppTest.from_function(page, args=("router",)).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [DATABASE_DOWN]
    assert [m.value for m in at.markdown] == []  # stopped there


def test_a_page_says_it_in_french_without_the_servers_address():
    at = AppTest.from_function(page, args=("page",)).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [DATABASE_DOWN]
    assert "postgresql://" not in DATABASE_DOWN
