"""Payment provider adapters (eopayment backends) and the local sandbox provider.

May import lib.domain and eopayment; never the database or the UI (see .importlinter).
"""
