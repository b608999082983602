"""Payment provider adapters (eopayment backends) and the local test banks (Systempay, PayFiP).

May import lib.domain, eopayment and zeep (PayFiP's SOAP); never the database or the UI (see .importlinter).
"""
