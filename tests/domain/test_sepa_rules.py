"""SEPA direct debit's pure rules: the RUM, IBAN/BIC (schwifty) and ICS checks with bad inputs, the
collection date, FRST/RCUR, the reject codes, the pain.008 (validated) and the pain.002 reading."""

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from lib.domain import sepa
from lib.domain.errors import InvalidInput
from lib.domain.letters import MailKind

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
CREDITOR = sepa.CreditorSettings("Mairie de Démo", "FR72ZZZ123456", "FR7630006000011234567890189", "AGRIFRPP", 5)


def test_our_rum_is_unique_per_mandate_and_in_the_allowed_set():
    made = sepa.make_rum(12, 345)
    assert made == "PF000012M0000345" and len(made) <= sepa.RUM_MAX
    assert sepa.make_rum(12, 346) != made


@pytest.mark.parametrize("rum", ["", " PF1", "PF1 ", "A" * 36, "PF_1", "PF#1", "PF//1", "PFé1"])
def test_a_rum_outside_the_rulebook_is_refused(rum):
    with pytest.raises(InvalidInput, match="RUM"):
        sepa.check_rum(rum)


def test_a_rum_may_use_the_rulebooks_punctuation():
    assert sepa.check_rum("PF-2026/01 (a).b,c'+?:") == "PF-2026/01 (a).b,c'+?:"


def test_an_iban_is_compacted_and_its_bic_found():
    account = sepa.checked_account(" fr14 2004 1010 0505 0001 3m02 606 ", "")
    assert account == sepa.Account("FR1420041010050500013M02606", "PSSTFRPP")
    assert sepa.checked_account("FR1420041010050500013M02606", "psst fr pp").bic == "PSSTFRPP"


@pytest.mark.parametrize(
    "iban, bic, words",
    [
        ("FR1420041010050500013M02607", "", "clé de contrôle fausse"),
        ("FR14200410100505", "", "longueur incorrecte"),
        ("XX1420041010050500013M02606", "", "IBAN invalide"),
        ("", "", "IBAN invalide"),
        ("FR1420041010050500013M02606", "PSST", "BIC invalide"),
        ("FR1420041010050500013M02606", "PSSTXXPP", "BIC invalide"),
        ("FR1420041010050500013M02606", "DEUTDEFF", "pays de l'IBAN"),
    ],
)
def test_a_wrong_iban_or_bic_gets_a_clear_french_message(iban, bic, words):
    with pytest.raises(InvalidInput, match=words):
        sepa.checked_account(iban, bic)


def test_the_iban_a_family_sees_is_masked():
    assert sepa.masked_iban("FR1420041010050500013M02606") == "FR14 •••• •••• 2606"


def test_a_creditor_identifier_is_checked_by_its_check_digits():
    assert sepa.check_creditor_id("fr72 zzz 123456") == "FR72ZZZ123456"
    assert sepa.check_creditor_id("FR72ABC123456") == "FR72ABC123456"  # the business code is not in the key


@pytest.mark.parametrize("ics", ["FR12ZZZ123456", "FR73ZZZ123456", "FR72ZZZ123457", "123456", "FRXXZZZ123456", ""])
def test_a_wrong_creditor_identifier_is_refused(ics):
    with pytest.raises(InvalidInput, match="ICS"):
        sepa.check_creditor_id(ics)


@pytest.mark.parametrize(
    "today, day, notice, expected",
    [
        (date(2026, 11, 27), 5, 14, date(2027, 1, 5)),  # 11 December is past the 5th: January
        (date(2026, 11, 10), 25, 14, date(2026, 11, 25)),  # exactly 14 days
        (date(2026, 11, 12), 25, 14, date(2026, 12, 25)),
        (date(2026, 12, 20), 28, 2, date(2026, 12, 28)),
    ],
)
def test_the_collection_date_leaves_the_notice_delay(today, day, notice, expected):
    assert sepa.collection_date(today, day, notice) == expected


@pytest.mark.parametrize("value", [0, 29, "5", True, None])
def test_a_collection_day_out_of_every_month_is_refused(value):
    with pytest.raises(InvalidInput, match="Jour de prélèvement"):
        sepa.checked_collection_day(value)


def test_first_collection_then_recurring():
    assert sepa.sequence_type(False) is sepa.SequenceType.FIRST
    assert sepa.sequence_type(True) is sepa.SequenceType.RECURRING


def test_reject_codes_read_in_french_and_unknown_ones_are_refused():
    assert sepa.reject_reason(" am04 ") == "AM04 – Provision insuffisante"
    assert sepa.reject_reason("MD01") == "MD01 – Pas de mandat"
    assert sepa.reject_reason("AC04") == "AC04 – Compte clôturé"
    assert sepa.reject_reason("MS02") == "MS02 – Refus du débiteur"
    for bad in ("", "ZZ99", None, 4):
        with pytest.raises(InvalidInput, match="Motif de rejet inconnu"):
            sepa.reject_reason(bad)


def debit(number: str, cents: int, sequence: sepa.SequenceType) -> sepa.Debit:
    return sepa.Debit(
        sepa.end_to_end_id(3, number.replace("-", "")),
        number,
        cents,
        sepa.make_rum(1, int(number[-1])),
        date(2026, 9, 1),
        "Anne Aubert",
        "FR1420041010050500013M02606",
        "PSSTFRPP",
        sequence,
    )


def test_the_pain_008_carries_amounts_mandates_sequences_and_the_creditor():
    file = sepa.pain_008(
        CREDITOR,
        date(2027, 1, 5),
        [
            debit("F-2026-000001", 4250, sepa.SequenceType.FIRST),
            debit("F-2026-000002", 1999, sepa.SequenceType.RECURRING),
        ],
        "PORTAIL-202610-000003",
    )
    root = ET.fromstring(file)
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=NS) == "PORTAIL-202610-000003"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "62.49"
    blocks = {b.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS): b for b in root.iterfind(".//p:PmtInf", namespaces=NS)}
    assert set(blocks) == {"FRST", "RCUR"}
    first = blocks["FRST"]
    assert first.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS) == "CORE"
    assert first.findtext("p:ReqdColltnDt", namespaces=NS) == "2027-01-05"
    assert first.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == "FR72ZZZ123456"
    assert first.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == CREDITOR.iban
    tx = first.find("p:DrctDbtTxInf", NS)
    assert tx.findtext("p:InstdAmt", namespaces=NS) == "42.50"
    assert tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == "R3-F2026000001"
    assert tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS) == "PF000001M0000001"
    assert tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", namespaces=NS) == "2026-09-01"
    assert tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == "Facture F-2026-000001 Mairie de Demo"


def test_no_file_for_nothing_to_collect_and_an_invalid_one_is_refused():
    with pytest.raises(InvalidInput, match="Aucune facture"):
        sepa.pain_008(CREDITOR, date(2027, 1, 5), [], "X")
    broken = sepa.CreditorSettings("Mairie", "FR72ZZZ123456", "FR7630006000011234567890189", "AGRI", 5)
    with pytest.raises(InvalidInput, match=r"pain\.008"):
        sepa.pain_008(broken, date(2027, 1, 5), [debit("F-2026-000001", 100, sepa.SequenceType.FIRST)], "X")


def test_the_bank_status_report_gives_its_rejected_transactions():
    report = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
<GrpHdr><MsgId>B1</MsgId><CreDtTm>2027-01-06T08:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>PORTAIL-202610-000003</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
</OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>A</OrgnlPmtInfId>
 <TxInfAndSts><OrgnlEndToEndId>R3-F2026000001</OrgnlEndToEndId><TxSts>RJCT</TxSts>
  <StsRsnInf><Rsn><Cd>am04</Cd></Rsn></StsRsnInf></TxInfAndSts>
 <TxInfAndSts><OrgnlEndToEndId>R3-F2026000002</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>
</OrgnlPmtInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>B</OrgnlPmtInfId><PmtInfSts>RJCT</PmtInfSts>
 <StsRsnInf><Rsn><Cd>MD01</Cd></Rsn></StsRsnInf>
 <TxInfAndSts><OrgnlEndToEndId>R3-F2026000003</OrgnlEndToEndId></TxInfAndSts>
</OrgnlPmtInfAndSts>
</CstmrPmtStsRpt></Document>"""
    assert sepa.read_pain_002(report) == [
        sepa.Returned("R3-F2026000001", "AM04"),
        sepa.Returned("R3-F2026000003", "MD01"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<x>",
        b'<!DOCTYPE d [<!ENTITY e "x">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"/>',
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"><CstmrPmtStsRpt/></Document>',
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><Other/></Document>',
    ],
)
def test_anything_but_a_status_report_is_refused(data):
    with pytest.raises(InvalidInput, match=r"pain\.002"):
        sepa.read_pain_002(data)


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "UTF-16-BE", "UTF-32"])
def test_a_status_report_declaring_entities_is_refused_whatever_its_encoding(encoding):
    report = f"""<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE Document [<!ENTITY rejected "RJCT">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt><OrgnlPmtInfAndSts>
<TxInfAndSts><OrgnlEndToEndId>R3-F2026000001</OrgnlEndToEndId><TxSts>&rejected;</TxSts>
<StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf></TxInfAndSts>
</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"""
    data = report.encode(encoding)
    if encoding == "UTF-16":
        assert data[:2] in (b"\xff\xfe", b"\xfe\xff")  # a byte-order mark, then two bytes a character
    with pytest.raises(InvalidInput, match=r"pain\.002"):
        sepa.read_pain_002(data)
    if encoding in ("UTF-8", "UTF-16"):  # the parser reads these: the same report without its DOCTYPE is read
        plain = report.replace('<!DOCTYPE Document [<!ENTITY rejected "RJCT">]>', "").replace("&rejected;", "RJCT")
        assert sepa.read_pain_002(plain.encode(encoding)) == [sepa.Returned("R3-F2026000001", "AM04")]


def test_the_letters_say_amount_date_rum_and_creditor():
    notice = sepa.notice_letter(
        "Ville", "F-2026-000001", 4250, date(2027, 1, 5), "PF1", "FR72ZZZ123456", "FR1420041010050500013M02606"
    )
    assert notice.kind is MailKind.DIRECT_DEBIT_NOTICE
    assert notice.lines == (
        "Montant : 42,50\xa0€",
        "Date du prélèvement : mardi 5 janvier 2027",
        "Compte débité : FR14 •••• •••• 2606",
        "Référence unique du mandat (RUM) : PF1",
        "Identifiant créancier SEPA (ICS) : FR72ZZZ123456",
    )
    rejected = sepa.rejected_letter("Ville", "F-2026-000001", 4250, date(2027, 1, 5), "AM04 – Provision insuffisante")
    assert rejected.kind is MailKind.DIRECT_DEBIT_REJECTED and "Motif : AM04 – Provision insuffisante" in rejected.lines


def test_the_journal_words_a_run_and_a_mandate():
    from lib.domain.journal import Entry, sentence

    run = Entry(
        "sepa.run",
        after={"month": "2026-10-01", "collection_date": "2027-01-05", "debits": 2, "total_cents": 6249},
    )
    assert (
        sentence(run)
        == "A généré le fichier de prélèvement (octobre 2026) : 2 prélèvement(s), 62,49\xa0€, le mardi 5 janvier 2027"
    )
    mandate = Entry("sepa.mandate", family="Famille Aubert", after={"rum": "PF000001M0000001"})
    assert sentence(mandate) == "A enregistré le mandat de prélèvement PF000001M0000001 de Famille Aubert"
