"""The only lib package that imports streamlit: session and login helpers, navigation, shared
widgets. It reaches the data only through lib.services."""
