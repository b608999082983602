"""The family's letters in French, as text and HTML, with the town's name and contact: the booking
receipt (a few days, or one line per month), a place obtained, a closure, an invoice or credit note,
a payment, an unpaid reminder; hostile names stay inert; and the reminders' schedule."""

from datetime import date, datetime, time, timedelta

import pytest

from lib.domain.clock import PARIS
from lib.domain.errors import InvalidInput
from lib.domain.family_letters import (
    DayChange,
    InvoiceFacts,
    Outcome,
    booking_receipt,
    closure_letter,
    day_lines,
    invoice_published,
    of_name,
    payment_receipt,
    reminder_steps,
    step_reached,
    unpaid_reminder,
    waiting_place,
)
from lib.domain.letters import Letter, MailKind, Signature, to_html, to_text

TOWN = "Ville de Petite-Ville"
SIGNATURE = Signature(TOWN, "enfance@petite-ville.test")
LIMIT = datetime(2026, 12, 8, 23, 59, tzinfo=PARIS)
HOSTILE = "<script>alert(1)</script>\r\nBcc: x@y.test [lien](http://evil.test) " + "x" * 500


def bodies(letter: Letter) -> tuple[str, str]:
    return to_text(letter, SIGNATURE), to_html(letter, SIGNATURE)


def test_a_receipt_names_each_day_its_outcome_and_until_when_it_can_be_cancelled():
    letter = booking_receipt(
        TOWN,
        "Alice",
        [
            DayChange("Restauration scolaire", date(2026, 12, 10), Outcome.BOOKED, LIMIT),
            DayChange("Restauration scolaire", date(2026, 12, 11), Outcome.CANCELLED),
            DayChange("Mercredi repas", date(2026, 12, 9), Outcome.WAITING),
        ],
        by_staff=[False],
        references=[123],
    )
    assert letter.kind is MailKind.BOOKING_RECEIPT
    assert letter.subject == "Réservations d'Alice – Ville de Petite-Ville"
    assert letter.lines == (
        "Mercredi repas — mercredi 9 décembre 2026 : liste d'attente",
        "Restauration scolaire — jeudi 10 décembre 2026 : réservé, annulable jusqu'au mardi 8 décembre 2026 à 23 h 59",
        "Restauration scolaire — vendredi 11 décembre 2026 : annulé",
    )
    text, page = bodies(letter)
    assert "Les réservations d'Alice ont été modifiées par vous :" in text
    assert "Référence : J-000123" in text and "J-000123" in page
    assert TOWN in text and "enfance@petite-ville.test" in text and TOWN in page


def test_a_merged_receipt_names_every_author_and_reference():
    letter = booking_receipt(
        TOWN,
        "Basile",
        [DayChange("Cantine", date(2026, 12, 10), Outcome.CANCELLED)],
        by_staff=[False, True, False],
        references=[7, 9],
    )
    assert letter.subject.startswith("Réservations de Basile")
    assert "modifiées par vous et par le service enfance" in letter.paragraphs[1]
    assert letter.reference == "J-000007, J-000009"


def test_a_long_set_of_days_reads_one_line_per_service_month_and_outcome():
    december = [date(2026, 12, d) for d in (1, 3, 4, 7, 8, 10, 11, 14, 15, 17, 18)]
    january = [date(2027, 1, d) for d in (5, 7, 8)]
    changes = [DayChange("Cantine", d, Outcome.BOOKED, datetime.combine(d, time(23, 59), PARIS)) for d in december]
    changes += [DayChange("Cantine", d, Outcome.CANCELLED) for d in january]
    assert day_lines(changes) == (
        "Cantine — décembre 2026 : 11 jour(s) réservé(s), du mardi 1 décembre 2026 au vendredi 18 décembre 2026 "
        "(le premier annulable jusqu'au mardi 1 décembre 2026 à 23 h 59)",
        "Cantine — janvier 2027 : 3 jour(s) annulé(s), du mardi 5 janvier 2027 au vendredi 8 janvier 2027",
    )
    assert len(day_lines(changes[:12])) == 12  # up to twelve days, each its own line


def test_a_place_obtained_says_it_will_be_billed():
    letter = waiting_place(TOWN, "Basile", [DayChange("Mercredi repas", date(2026, 12, 9), Outcome.BOOKED, LIMIT)], 42)
    assert letter.kind is MailKind.WAITING_PLACE and not letter.kind.optional
    assert letter.subject == "Une place s'est libérée pour Basile – Ville de Petite-Ville"
    assert "réservé, annulable jusqu'au mardi 8 décembre 2026 à 23 h 59" in letter.lines[0]
    assert "facturés" in to_text(letter, SIGNATURE) and letter.reference == "J-000042"


def test_a_closure_lists_each_childs_cancelled_days():
    letter = closure_letter(
        TOWN,
        "grève",
        [
            ("Basile", "Mercredi repas", [date(2026, 12, 16)]),
            ("Alice", "Cantine", [date(2026, 12, 17), date(2026, 12, 16)]),
        ],
    )
    assert letter.kind is MailKind.CLOSURE
    assert letter.lines == (
        "Alice — Cantine : mercredi 16 décembre 2026, jeudi 17 décembre 2026",
        "Basile — Mercredi repas : mercredi 16 décembre 2026",
    )
    assert "(grève)" in letter.paragraphs[1] and "ne seront pas facturées" in letter.paragraphs[1]
    assert "(" not in closure_letter(TOWN, "  ", [("Alice", "Cantine", [date(2026, 12, 16)])]).paragraphs[1]


def test_an_invoice_and_a_credit_note_with_or_without_the_portals_address():
    invoice = InvoiceFacts("F-2026-000123", date(2026, 11, 1), 4250, date(2027, 1, 2))
    letter = invoice_published(TOWN, invoice, "https://portail.test/mes-factures")
    assert letter.subject == "Nouvelle facture F-2026-000123 – Ville de Petite-Ville"
    assert letter.lines == (
        "Numéro : F-2026-000123",
        "Montant : 42,50\u00a0€",
        "Référence de paiement : F2026000123",
        "À payer au plus tard le samedi 2 janvier 2027",
    )
    assert letter.link is not None and letter.link.url == "https://portail.test/mes-factures"
    offline = invoice_published(TOWN, invoice, None)
    assert offline.link is None and "rubrique « Mes factures »" in to_text(offline, SIGNATURE)
    credit = invoice_published(TOWN, InvoiceFacts("AV-2026-000124", date(2026, 11, 1), -350, None, True), None)
    assert credit.subject.startswith("Nouvel avoir AV-2026-000124")
    assert credit.lines == ("Numéro : AV-2026-000124", "Montant : 3,50\u00a0€")


def test_a_payment_receipt_and_an_unpaid_reminder():
    paid = payment_receipt(TOWN, "F-2026-000123", date(2026, 10, 1), 4250, LIMIT, "cheque", 0)
    assert paid.kind.optional and paid.subject == "Paiement reçu – facture F-2026-000123 – Ville de Petite-Ville"
    assert "paiement par chèque de la facture F-2026-000123 (octobre 2026)" in paid.paragraphs[1]
    assert paid.lines[-1] == "Reste à payer : 0,00\u00a0€"
    reminder = unpaid_reminder(
        TOWN, InvoiceFacts("F-2026-000123", date(2026, 10, 1), 4250, date(2026, 12, 5)), 1250, None
    )
    assert reminder.subject == "Facture F-2026-000123 à régler – Ville de Petite-Ville"
    assert "il reste 12,50\u00a0€ à payer" in reminder.paragraphs[1]
    assert reminder.lines == ("Référence de paiement : F2026000123",)
    assert "Référence de paiement : F2026000123" in to_text(reminder, SIGNATURE)
    assert "ne tenez pas compte" in to_text(reminder, SIGNATURE)


@pytest.mark.parametrize(
    "build",
    [
        lambda name: booking_receipt(
            name, name, [DayChange(name, date(2026, 12, 10), Outcome.BOOKED, LIMIT)], by_staff=[False], references=[1]
        ),
        lambda name: waiting_place(name, name, [DayChange(name, date(2026, 12, 10), Outcome.BOOKED, LIMIT)], 1),
        lambda name: closure_letter(name, name, [(name, name, [date(2026, 12, 10)])]),
        lambda name: invoice_published(name, InvoiceFacts("F-1", date(2026, 11, 1), 100, None), None),
        lambda name: payment_receipt(name, "F-1", date(2026, 11, 1), 100, LIMIT, "online", 0),
        lambda name: unpaid_reminder(name, InvoiceFacts("F-1", date(2026, 11, 1), 100, None), 100, None),
    ],
)
def test_hostile_names_are_inert_on_one_line_and_short(build):
    letter = build(HOSTILE)
    assert "\n" not in letter.subject and "\r" not in letter.subject and len(letter.subject) <= 150
    text, page = bodies(letter)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert all("\r" not in line and "\n" not in line for line in letter.lines + letter.paragraphs)
    assert "\nBcc:" not in text and "x" * 201 not in text


def test_no_letter_carries_diet_or_health_words():
    letters = [
        booking_receipt(
            TOWN,
            "Alice",
            [DayChange("Cantine", date(2026, 12, 10), Outcome.BOOKED, LIMIT)],
            by_staff=[True],
            references=[1],
        ),
        waiting_place(TOWN, "Alice", [DayChange("Cantine", date(2026, 12, 10), Outcome.BOOKED, LIMIT)], 1),
        closure_letter(TOWN, "grève", [("Alice", "Cantine", [date(2026, 12, 10)])]),
    ]
    for letter in letters:
        text = to_text(letter, SIGNATURE).lower()
        assert not any(word in text for word in ("régime", "allerg", "pai ", "santé", "sans porc"))


def test_of_name_elides_before_a_vowel_or_a_mute_h():
    assert [of_name(n) for n in ("Alice", "Élodie", "Hugo", "Basile", "Yanis")] == [
        "d'Alice",
        "d'Élodie",
        "d'Hugo",
        "de Basile",
        "d'Yanis",
    ]


# --- the reminders' schedule ----------------------------------------------------------------------------


def test_reminder_steps_are_read_and_checked():
    assert reminder_steps("10,30") == (10, 30)
    assert reminder_steps(" 30 , 10,10 ") == (10, 30)
    assert reminder_steps("") == () and reminder_steps(None) == ()
    for bad in ("dix", "0", "10;30", "366", "-5", "1,2,3,4,5,6,7"):
        with pytest.raises(InvalidInput, match="unpaid_reminder_days"):
            reminder_steps(bad)


DUE = date(2026, 12, 5)


@pytest.mark.parametrize(
    ("days_late", "step"),
    [(-3, None), (0, None), (9, None), (10, 10), (29, 10), (30, 30), (200, 30)],
)
def test_only_the_highest_step_reached_is_sent(days_late, step):
    assert step_reached(DUE, DUE + timedelta(days=days_late), (10, 30)) == step
