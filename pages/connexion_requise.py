"""Shown when the session is missing or expired (the login guard usually redirects first)."""

import streamlit as st

from lib.ui import session

st.title("Portail Famille", anchor=False)
session.show_login_needed()
