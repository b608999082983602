"""Our own HTTP routes, served by the same process as Streamlit (st.App): the login form and
cookie, later the payment return and notification. Like pages, they go through lib.services."""
