"""Letters render the same words as text and as escaped HTML, with the town's signature, and what a
person typed can neither break a header nor inject markup."""

from lib.domain.letters import OPTIONAL, Letter, Link, MailKind, Signature, greeting, one_line, to_html, to_text

TOWN = Signature("Ville de Petite-Ville", "enfance@petite-ville.test")


def test_one_line_flattens_line_breaks_and_control_characters_and_shortens():
    assert one_line("Alice\r\nBcc: x@y.test") == "Alice Bcc: x@y.test"
    assert one_line("a\u2028b\x00c") == "a b c"
    assert one_line("x" * 500, 80) == "x" * 79 + "…"


def test_a_hostile_name_is_inert_in_html_and_on_one_line_in_the_subject():
    letter = Letter(
        MailKind.BOOKING_RECEIPT,
        "Réservations de <script>alert(1)</script>\r\nBcc: x@y",
        (greeting('<img src=x onerror="alert(1)">'),),
        lines=("[lien](http://evil.test)",),
        link=Link("Voir", 'https://portail.test/?a="><b>'),
    )
    assert "\n" not in letter.subject and "\r" not in letter.subject
    page = to_html(letter, TOWN)
    assert "<script>" not in page and "<img" not in page and '"><b>' not in page
    assert "&lt;script&gt;" in page


def test_text_and_html_carry_the_reference_the_link_and_the_towns_contact():
    letter = Letter(
        MailKind.INVITATION,
        "Votre compte",
        ("Bonjour Claire,",),
        link=Link("Choisir mon mot de passe", "https://portail.test/auth/activer?jeton=abc"),
        reference="J-000123",
    )
    for body in (to_text(letter, TOWN), to_html(letter, TOWN)):
        assert "Choisir mon mot de passe" in body
        assert "https://portail.test/auth/activer?jeton=abc" in body
        assert "J-000123" in body
        assert "Ville de Petite-Ville" in body and "enfance@petite-ville.test" in body


def test_only_receipts_of_what_the_family_did_are_optional():
    assert {MailKind.BOOKING_RECEIPT, MailKind.PAYMENT_RECEIPT} == OPTIONAL
    assert all(kind.label for kind in MailKind)
