"""Sending e-mail: an outbox row made into a message (`message`), SMTP (`transport`), and the
demo's and tests' local SMTP server that keeps what it receives in a Maildir (`sink`). Knows
nothing of the database: lib/services/mail_worker.py feeds it."""
