"""The family's messages are queued in the transaction of the change they report: a booking's
receipt (merged over five minutes), a place obtained from the waiting list, a month's invoices, a
payment received, the unpaid reminders; and a family only ever receives its own."""

from datetime import date, datetime, time, timedelta
from html import unescape

import pytest

from lib.domain.clock import PARIS, to_utc_naive
from lib.domain.deadlines import DeadlinePassed, limit_text
from lib.domain.errors import InvalidInput, NotAllowed
from lib.domain.family_letters import RECEIPT_DELAY_MINUTES
from lib.domain.letters import MailKind
from lib.payments.sandbox import BANK
from lib.services import families, family_mail, invoicing, mail, payments, reminders, setup
from lib.services import reservations as r
from tests.conftest import DEMO_NOW
from tests.helpers import PORT, PROVIDER, sorted_rows, town_invoice

THURSDAY = date(2026, 12, 10)  # Alice (Mon/Tue/Thu/Fri) is booked, Adrien (Mon/Tue/Fri) is not
AFTER_NOVEMBER = datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)
PUBLIC = "https://portail.petite-ville.test"


def outbox(db, kind=None):
    return db.dicts(
        "SELECT * FROM outbox WHERE CAST(? AS VARCHAR) IS NULL OR kind = ? ORDER BY id",
        [kind and kind.value, kind and kind.value],
    )


def family_of(db, email):
    return db.value("SELECT family_id FROM users WHERE email = ?", [email])


def assert_each_family_gets_only_its_own(db):
    """Every message goes to an account of the family it concerns."""
    rows = db.rows(
        "SELECT o.id, o.family_id, u.family_id FROM outbox o LEFT JOIN users u ON u.email = o.to_address ORDER BY o.id"
    )
    assert rows and all(family == account_family for _, family, account_family in rows)


def context(town, email, child):
    actor = town.login(email)
    return actor, r.booking_context(town.db, actor, child, town.school_year)


def cancel_limit(ctx, service, day):
    return limit_text(ctx.service(service).cancel.limit(day, ctx.calendar), article=False)


def with_public_address(db):
    db.write(lambda cur: cur.execute("INSERT INTO settings VALUES ('public_url', ?)", [PUBLIC]))


# --- booking receipts ---------------------------------------------------------------------------------


def test_a_town_may_send_receipts_at_once_and_a_bad_delay_is_refused(town):
    db = town.db
    with pytest.raises(InvalidInput, match="receipt_delay_minutes : un nombre de minutes de 0 à 60"):
        setup.set_setting(db, "receipt_delay_minutes", "90", DEMO_NOW)
    setup.set_setting(db, "receipt_delay_minutes", "0", DEMO_NOW)
    parent, ctx = context(town, town.parent_a, town.child_a2)
    r.set_day(db, parent, ctx, town.canteen, THURSDAY, True, DEMO_NOW)
    (row,) = outbox(db)
    assert row["not_before"] == row["created_at"]


def test_a_booking_change_queues_its_receipt_in_the_same_transaction(town):
    db = town.db
    parent, ctx = context(town, town.parent_a, town.child_a2)
    r.set_day(db, parent, ctx, town.canteen, THURSDAY, True, DEMO_NOW)
    (row,) = outbox(db)
    audit_id = db.value("SELECT max(id) FROM audit_log WHERE action = 'booking.days'")
    assert row["kind"] == "booking_receipt" and row["to_address"] == town.parent_a
    assert row["family_id"] == town.family_a and row["audit_id"] == audit_id
    assert row["subject"] == "Réservations d'Adrien – Ville de Petite-Ville (essais)"
    assert row["not_before"] - row["created_at"] == timedelta(minutes=RECEIPT_DELAY_MINUTES)
    assert row["merge_key"] == f"receipt:{town.child_a2}:user:{parent.user_id}"
    for body in (row["body_text"], unescape(row["body_html"])):
        assert "modifiées par vous" in body
        assert (
            f"jeudi 10 décembre 2026 : réservé, annulable jusqu'au {cancel_limit(ctx, town.canteen, THURSDAY)}" in body
        )
        assert f"J-{audit_id:06d}" in body


def test_a_refused_change_queues_nothing(town):
    db = town.db
    parent, ctx = context(town, town.parent_a, town.child_a)
    with pytest.raises(DeadlinePassed):
        r.set_day(db, parent, ctx, town.canteen, DEMO_NOW.date(), False, DEMO_NOW)  # today: too late to cancel
    with pytest.raises(InvalidInput):
        r.change_days(db, parent, ctx, town.canteen, [], [], DEMO_NOW)
    assert outbox(db) == []


def test_a_failure_after_queuing_rolls_back_the_booking_and_its_receipt(town, monkeypatch):
    db = town.db
    parent, ctx = context(town, town.parent_a, town.child_a2)

    def fails(*args, **kwargs):
        raise RuntimeError("a later step of the change fails")

    monkeypatch.setattr(family_mail, "places_obtained", fails)  # called after the receipt is queued
    with pytest.raises(RuntimeError):
        r.set_day(db, parent, ctx, town.canteen, THURSDAY, True, DEMO_NOW)
    assert outbox(db) == []
    assert db.value("SELECT count(*) FROM bookings WHERE child_id = ? AND day = ?", [town.child_a2, THURSDAY]) == 0


def test_five_taps_make_one_receipt_listing_every_day_then_a_new_one_once_it_left(town):
    db = town.db
    parent, ctx = context(town, town.parent_a, town.child_a)
    days = [date(2026, 12, d) for d in (7, 8, 10, 11, 14)]
    for minute, day in enumerate(days):
        r.set_day(db, parent, ctx, town.canteen, day, False, DEMO_NOW + timedelta(minutes=minute))
    (row,) = outbox(db)
    refs = [a for (a,) in db.rows("SELECT id FROM audit_log WHERE action = 'booking.days' ORDER BY id")]
    assert len(refs) == 5
    assert row["not_before"] == to_utc_naive(DEMO_NOW) + timedelta(minutes=5)  # the first try is the first tap's
    for day in days:
        assert f"{day.day} décembre 2026 : annulé" in row["body_text"]
    assert ", ".join(f"J-{a:06d}" for a in refs) in row["body_text"]
    # Re-booking a day inside the window shows its latest outcome only.
    r.set_day(db, parent, ctx, town.canteen, days[0], True, DEMO_NOW + timedelta(minutes=4))
    (row,) = outbox(db)
    assert "lundi 7 décembre 2026 : réservé, annulable" in row["body_text"]
    assert "lundi 7 décembre 2026 : annulé" not in row["body_text"]
    # Once its first try has come, a new change makes a new receipt.
    r.set_day(db, parent, ctx, town.canteen, date(2026, 12, 15), False, DEMO_NOW + timedelta(minutes=6))
    assert len(outbox(db)) == 2


def test_a_whole_year_template_reads_one_line_per_month(town):
    db = town.db
    parent, ctx = context(town, town.parent_a, town.child_a)
    r.apply_template(db, parent, ctx, {town.canteen: [1, 2]}, date(2026, 12, 1), ctx.year.end_date, DEMO_NOW)
    (row,) = outbox(db)
    lines = [line for line in row["body_text"].splitlines() if line.startswith("- ")]
    assert 6 <= len(lines) <= 8  # December to July, the cancelled Thursdays and Fridays
    assert any("décembre 2026 :" in line and "annulé(s)" in line for line in lines)


def test_a_promotion_tells_the_other_family_a_place_was_freed(town):
    db = town.db
    day = date(2026, 12, 9)  # a Wednesday: Adrien and Basile go to the centre
    basile, basile_ctx = context(town, town.parent_b, town.child_b)
    r.set_day(db, basile, basile_ctx, town.wednesday_meal, day, False, DEMO_NOW)
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = 1 WHERE site_id = ? AND service_id = ?",
            [town.wednesday_centre, town.wednesday_meal],
        )
    )
    assert r.set_day(db, basile, basile_ctx, town.wednesday_meal, day, True, DEMO_NOW).waiting
    parent, adrien_ctx = context(town, town.parent_a, town.child_a2)
    assert r.set_day(db, parent, adrien_ctx, town.wednesday_meal, day, False, DEMO_NOW).cancelled
    (place,) = outbox(db, MailKind.WAITING_PLACE)
    promotion = db.value("SELECT max(id) FROM audit_log WHERE action = 'booking.promoted'")
    assert place["to_address"] == town.parent_b and place["family_id"] == town.family_b
    assert place["subject"] == "Une place s'est libérée pour Basile – Ville de Petite-Ville (essais)"
    assert place["not_before"] == place["created_at"]  # essential, sent at once
    limit = cancel_limit(basile_ctx, town.wednesday_meal, day)
    assert f"Mercredi repas — mercredi 9 décembre 2026 : réservé, annulable jusqu'au {limit}" in place["body_text"]
    assert f"J-{promotion:06d}" in place["body_text"]
    assert "Adrien" not in place["body_text"] and "Aubert" not in place["body_text"]
    assert_each_family_gets_only_its_own(db)


@pytest.mark.parametrize(
    "archive",
    [
        lambda town, admin: families.archive_family(town.db, admin, town.family_a, "Déménagement", DEMO_NOW),
        lambda town, admin: families.archive_child(town.db, admin, town.child_a2, "Parti au collège", DEMO_NOW),
    ],
    ids=["family", "child"],
)
def test_archiving_frees_a_place_and_the_waiting_family_is_told_in_the_same_transaction(town, archive):
    db = town.db
    day = date(2026, 12, 9)  # a Wednesday: Adrien (family A) and Basile (family B) go to the centre
    basile, basile_ctx = context(town, town.parent_b, town.child_b)
    r.set_day(db, basile, basile_ctx, town.wednesday_meal, day, False, DEMO_NOW)
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = 1 WHERE site_id = ? AND service_id = ?",
            [town.wednesday_centre, town.wednesday_meal],
        )
    )
    assert r.set_day(db, basile, basile_ctx, town.wednesday_meal, day, True, DEMO_NOW).waiting
    db.write(lambda cur: cur.execute("DELETE FROM outbox"))  # Basile's own receipts

    archive(town, town.login(town.admin))

    (place,) = outbox(db, MailKind.WAITING_PLACE)
    promotion = db.value("SELECT max(id) FROM audit_log WHERE action = 'booking.promoted'")
    assert db.rows("SELECT entity_id FROM audit_log WHERE id = ?", [promotion]) == [(str(town.child_b),)]
    assert place["to_address"] == town.parent_b and place["family_id"] == town.family_b
    assert place["audit_id"] == promotion
    assert place["subject"] == "Une place s'est libérée pour Basile – Ville de Petite-Ville (essais)"
    limit = cancel_limit(basile_ctx, town.wednesday_meal, day)
    assert f"Mercredi repas — mercredi 9 décembre 2026 : réservé, annulable jusqu'au {limit}" in place["body_text"]
    assert "Adrien" not in place["body_text"] and "Aubert" not in place["body_text"]
    assert_each_family_gets_only_its_own(db)


def test_an_archive_that_fails_queues_no_waiting_list_message(town, monkeypatch):
    db = town.db
    day = date(2026, 12, 9)
    basile, basile_ctx = context(town, town.parent_b, town.child_b)
    r.set_day(db, basile, basile_ctx, town.wednesday_meal, day, False, DEMO_NOW)
    db.write(
        lambda cur: cur.execute(
            "UPDATE site_services SET capacity = 1 WHERE site_id = ? AND service_id = ?",
            [town.wednesday_centre, town.wednesday_meal],
        )
    )
    assert r.set_day(db, basile, basile_ctx, town.wednesday_meal, day, True, DEMO_NOW).waiting
    before = outbox(db), sorted_rows(db, "SELECT * FROM bookings")

    def broken(*_args):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(families.store, "set_family_archived", broken)
    with pytest.raises(RuntimeError):
        families.archive_family(db, town.login(town.admin), town.family_a, "Déménagement", DEMO_NOW)
    assert (outbox(db), sorted_rows(db, "SELECT * FROM bookings")) == before


def test_a_family_that_turned_receipts_off_gets_none_but_the_staffs_changes_are_always_told(town):
    db = town.db
    parent, ctx = context(town, town.parent_a, town.child_a)
    assert mail.set_preferences(db, parent, {MailKind.BOOKING_RECEIPT: False}, DEMO_NOW)
    assert mail.preferences(db, parent) == {MailKind.BOOKING_RECEIPT: False, MailKind.PAYMENT_RECEIPT: True}
    r.set_day(db, parent, ctx, town.canteen, THURSDAY, False, DEMO_NOW)
    assert outbox(db) == []
    agent, agent_ctx = context(town, town.agent, town.child_a)
    r.set_day(db, agent, agent_ctx, town.canteen, date(2026, 12, 11), False, DEMO_NOW)
    (row,) = outbox(db)
    assert "modifiées par le service enfance" in row["body_text"] and row["to_address"] == town.parent_a


def test_a_day_booked_late_by_the_staff_gives_no_cancellation_limit_already_past(town):
    db = town.db
    agent, ctx = context(town, town.agent, town.child_a2)
    day, now = date(2026, 12, 3), datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)  # a Thursday, its limits passed
    r.set_day(db, agent, ctx, town.canteen, day, True, now, late=True, reason="oubli signalé")
    (row,) = outbox(db)
    assert "jeudi 3 décembre 2026 : réservé\n" in row["body_text"] and "annulable" not in row["body_text"]


# --- preferences -------------------------------------------------------------------------------------------


def preference_state(db):
    return sorted_rows(db, "SELECT * FROM mail_preferences"), db.value("SELECT count(*) FROM audit_log")


@pytest.mark.parametrize(
    ("choices", "words"),
    [
        ({}, "Aucun choix"),
        ({"spam": False}, "Type de courriel inconnu"),
        ({MailKind.UNPAID_REMINDER: False}, "indispensable"),
        ({MailKind.PAYMENT_RECEIPT: "non"}, "choisissez oui ou non"),
        ("booking_receipt", "Aucun choix"),
    ],
)
def test_bad_preferences_are_refused_in_french_and_write_nothing(town, choices, words):
    db = town.db
    parent = town.login(town.parent_a)
    before = preference_state(db)
    with pytest.raises(InvalidInput, match=words):
        mail.set_preferences(db, parent, choices, DEMO_NOW)
    assert preference_state(db) == before


def test_preferences_are_a_family_accounts_own_and_audited(town):
    db = town.db
    with pytest.raises(NotAllowed):
        mail.set_preferences(db, town.login(town.agent), {MailKind.BOOKING_RECEIPT: False}, DEMO_NOW)
    with pytest.raises(NotAllowed):
        mail.preferences(db, town.login(town.admin))
    parent_b = town.login(town.parent_b)
    mail.set_preferences(db, parent_b, {"payment_receipt": False}, DEMO_NOW)
    assert mail.preferences(db, town.login(town.parent_a))[MailKind.PAYMENT_RECEIPT] is True  # A's are untouched
    assert db.rows("SELECT user_id, entity_id, after FROM audit_log WHERE action = 'mail.preferences'") == [
        (parent_b.user_id, str(parent_b.user_id), '{"payment_receipt": false}')
    ]


# --- invoices and payments ------------------------------------------------------------------------------


def test_publishing_a_month_queues_one_message_per_document_credit_notes_too(town):
    db = town.db
    admin = town.login(town.admin)
    published = invoicing.publish_month(db, admin, date(2026, 11, 1), AFTER_NOVEMBER)
    rows = outbox(db, MailKind.INVOICE_PUBLISHED)
    assert len(rows) == len(published.numbers) == 2
    assert {row["to_address"] for row in rows} == {town.parent_a, town.parent_b}
    invoice = db.dicts("SELECT * FROM invoices WHERE number = ?", [published.numbers[0]])[0]
    first = next(row for row in rows if published.numbers[0] in row["subject"])
    assert first["subject"] == f"Nouvelle facture {published.numbers[0]} – Ville de Petite-Ville (essais)"
    assert "Montant : " in first["body_text"] and "À payer au plus tard le" in first["body_text"]
    assert "rubrique « Mes factures »" in first["body_text"] and "http" not in first["body_text"]  # no address set
    assert first["family_id"] == invoice["family_id"]
    # A late correction gives a credit note, and the town's address gives a link.
    with_public_address(db)
    agent, ctx = context(town, town.agent, town.child_a)
    day = date(2026, 11, 2)
    r.set_day(db, agent, ctx, town.canteen, day, False, AFTER_NOVEMBER, late=True, reason="absence signalée")
    (credit,) = invoicing.publish_month(db, admin, date(2026, 11, 1), AFTER_NOVEMBER).numbers
    (row,) = [row for row in outbox(db, MailKind.INVOICE_PUBLISHED) if credit in row["subject"]]
    assert row["subject"].startswith(f"Nouvel avoir {credit}") and row["to_address"] == town.parent_a
    assert "3,50" in row["body_text"] and f"{PUBLIC}/mes-factures" in row["body_text"]
    assert_each_family_gets_only_its_own(db)


def test_a_replayed_bank_notification_sends_one_receipt(town):
    db = town.db
    parent = town.login(town.parent_a)
    october = town_invoice(town, town.family_a, 10)
    started = payments.start_payment(db, parent, october.id, "k" * 24, PORT, DEMO_NOW)
    cfg = payments.config(db)
    answer = BANK.decide(cfg, BANK.receive(cfg, {f["name"]: f["value"] for f in started.fields}), "pay")[1]
    for source in ("notification", "retour", "notification"):
        payments.record_answer(db, answer, source, DEMO_NOW, address=PROVIDER)
    (row,) = outbox(db, MailKind.PAYMENT_RECEIPT)
    payment = db.value("SELECT id FROM payments WHERE invoice_id = ?", [october.id])
    account = db.value("SELECT id FROM users WHERE email = ?", [town.parent_a])
    assert row["dedupe_key"] == f"payment:{payment}:user:{account}" and row["to_address"] == town.parent_a
    assert row["subject"] == f"Paiement reçu – facture {october.number} – Ville de Petite-Ville (essais)"
    assert "Reste à payer : 0,00" in row["body_text"] and "en ligne" in row["body_text"]
    # The same receipt cannot be queued twice, even by a second call for the same payment.
    assert (
        db.write(
            lambda cur: family_mail.payment_received(cur, payment, DEMO_NOW, by_staff=True, user_id=None, audit_id=None)
        )
        == []
    )


def test_a_payment_receipt_turned_off_is_not_queued(town):
    db = town.db
    parent = town.login(town.parent_a)
    mail.set_preferences(db, parent, {MailKind.PAYMENT_RECEIPT: False}, DEMO_NOW)
    october = town_invoice(town, town.family_a, 10)
    payment = db.write(
        lambda cur: cur.execute(
            "INSERT INTO payments (invoice_id, amount_cents, paid_at, method) VALUES (?, 100, ?, 'cheque') RETURNING id",
            [october.id, datetime(2026, 11, 27, 8, 0)],
        ).fetchone()[0]
    )
    queue = lambda staff: db.write(  # noqa: E731
        lambda cur: family_mail.payment_received(cur, payment, DEMO_NOW, by_staff=staff, user_id=None, audit_id=None)
    )
    assert queue(False) == []
    (row_id,) = queue(True)  # recorded by the staff: told anyway
    assert "par chèque" in db.value("SELECT body_text FROM outbox WHERE id = ?", [row_id])


# --- unpaid reminders ---------------------------------------------------------------------------------------

# The small town: family A paid September; B's September is due 4 November; October's invoices
# (A and B) are due 5 December.
SEPTEMBER_B, OCTOBER_A, OCTOBER_B = ("B", 9), ("A", 10), ("B", 10)


def reminded(town):
    families = {town.family_a: "A", town.family_b: "B"}
    rows = town.db.rows(
        "SELECT i.family_id, extract(month FROM i.period_month), o.dedupe_key FROM outbox o "
        "JOIN invoices i ON o.dedupe_key LIKE 'unpaid:' || i.id || ':%' WHERE o.kind = 'unpaid_reminder'"
    )
    return {(families[f], m, int(key.split(":")[2])) for f, m, key in rows}


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 13), set()),  # B's September: 9 days late
        (date(2026, 11, 14), {(*SEPTEMBER_B, 10)}),
        (date(2026, 12, 14), {(*SEPTEMBER_B, 30)}),  # after downtime: the highest step only
        (date(2026, 12, 15), {(*SEPTEMBER_B, 30), (*OCTOBER_A, 10), (*OCTOBER_B, 10)}),
        (date(2027, 3, 1), {(*SEPTEMBER_B, 30), (*OCTOBER_A, 30), (*OCTOBER_B, 30)}),
    ],
)
def test_reminders_follow_the_steps_and_a_catch_up_sends_the_highest_only(town, day, expected):
    now = datetime.combine(day, time(6, 0), PARIS)
    queued = reminders.queue_due(town.db, now)
    assert reminded(town) == expected and queued == len(expected)
    assert reminders.queue_due(town.db, now + timedelta(hours=1)) == 0  # a second run the same day: nothing more


def test_a_new_email_does_not_send_the_same_reminder_step_again(town):
    db = town.db
    day = datetime(2026, 11, 14, 6, 0, tzinfo=PARIS)
    assert reminders.queue_due(db, day) == 1  # B's September, 10 days late
    db.write(lambda cur: cur.execute("UPDATE users SET email = 'nouvelle@exemple.fr' WHERE email = ?", [town.parent_b]))
    assert reminders.queue_due(db, day + timedelta(days=1)) == 0
    assert len(outbox(db, MailKind.UNPAID_REMINDER)) == 1


def test_reminders_step_up_and_skip_paid_pending_and_credit_notes(town):
    db = town.db
    reminders.queue_due(db, datetime(2026, 11, 20, 6, 0, tzinfo=PARIS))
    assert reminded(town) == {(*SEPTEMBER_B, 10)}
    reminders.queue_due(db, datetime(2026, 12, 4, 6, 0, tzinfo=PARIS))
    assert reminded(town) == {(*SEPTEMBER_B, 10), (*SEPTEMBER_B, 30)}
    october = town_invoice(town, town.family_a, 10)
    later = datetime(2026, 12, 16, 6, 0, tzinfo=PARIS)
    payments.start_payment(db, town.login(town.parent_a), october.id, "k" * 24, PORT, later)  # pending online
    reminders.queue_due(db, later)
    assert (*OCTOBER_A, 10) not in reminded(town) and (*OCTOBER_B, 10) in reminded(town)
    row = db.dicts("SELECT * FROM outbox WHERE kind = 'unpaid_reminder' AND to_address = ?", [town.parent_b])[-1]
    assert "à régler – Ville de Petite-Ville (essais)" in row["subject"] and "il reste" in row["body_text"]
    assert_each_family_gets_only_its_own(db)


def test_no_reminder_when_the_setting_is_empty_and_the_setting_is_checked(town):
    db = town.db
    setup.set_setting(db, reminders.SETTING, "30, 10", DEMO_NOW)
    assert db.value("SELECT value FROM settings WHERE key = ?", [reminders.SETTING]) == "10,30"
    for bad in ("dix", "0", "10;30", "400"):
        with pytest.raises(InvalidInput, match="unpaid_reminder_days"):
            setup.set_setting(db, reminders.SETTING, bad, DEMO_NOW)
    setup.set_setting(db, reminders.SETTING, "", DEMO_NOW)
    assert reminders.queue_due(db, datetime(2027, 3, 1, 6, 0, tzinfo=PARIS)) == 0
