"""Our own HTTP routes, served by the same process as Streamlit (st.App): the login form and
cookie, the payment departure, return and notification, the sandbox bank. Like pages, they go
through lib.services."""
