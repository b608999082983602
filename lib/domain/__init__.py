"""Pure business rules: no database, no web framework, no pandas.

Everything here takes its inputs (dates, the clock, settings) as arguments, so the rules test
as plain tables.
"""
