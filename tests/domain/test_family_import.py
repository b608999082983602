"""Reading a town's CSV file: its encoding, its separator, its columns, every problem by line."""

from datetime import date

from lib.domain.family_import import COLUMNS, NAMES, Reference, decode, parse, separator, template_csv

REF = Reference(
    today=date(2026, 11, 27),
    classes=("PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"),
    diets={"standard": "Standard"},
    sites={"École A": 1},
    services={"cantine": 10},
    site_services=frozenset({(1, 10)}),
)


def _row(**values: str) -> str:
    base = {
        "famille_id": "F-1",
        "famille_nom": "Famille Lenoir",
        "resp1_prenom": "Claire",
        "resp1_nom": "Lenoir",
        "enfant_id": "E-1",
        "enfant_prenom": "Léo",
        "enfant_nom": "Lenoir",
        "enfant_naissance": "14/03/2019",
        "enfant_classe": "CP",
        "enfant_structure": "École A",
        "enfant_prestations": "cantine",
    }
    base.update(values)
    return ";".join(base.get(n, "") for n in NAMES)


def _parse(*rows: str) -> list[str]:
    return [p.sentence() for p in parse(("\n".join([";".join(NAMES), *rows])).encode(), REF).problems]


def test_utf8_with_or_without_a_bom_and_windows_1252_are_read():
    assert decode("é;à".encode()) == ("é;à", [])
    assert decode(b"\xef\xbb\xbf" + "é".encode()) == ("é", [])
    assert decode("é;ç".encode("cp1252")) == ("é;ç", [])
    _text, problems = decode(b"ok\n\x81bad")
    assert [p.sentence() for p in problems] == [
        "Ligne 2 : caractère illisible (octet 0x81) : enregistrez le fichier en UTF-8."
    ]


def test_the_separator_is_the_one_the_header_uses():
    assert separator("a;b;c") == ";"
    assert separator("a,b,c") == ","


def test_a_clean_line_gives_a_family_and_its_child():
    plan = parse(("\n".join([";".join(NAMES), _row()])).encode(), REF)
    assert plan.problems == ()
    assert [f.town_ref for f in plan.families] == ["F-1"]
    assert plan.children[0].registrations == ((1, (10,)),)


def test_each_bad_value_is_a_french_sentence_with_its_line_and_column():
    assert _parse(_row(enfant_naissance="2019-03-14")) == [
        "Ligne 2, enfant_naissance : date illisible « 2019-03-14 » (attendu JJ/MM/AAAA)."
    ]
    assert _parse(_row(enfant_classe="6e")) == ["Ligne 2, enfant_classe : « 6e » : PS, MS, GS, CP, CE1, CE2, CM1, CM2."]
    assert _parse(_row(qf="abc", qf_date="01/09/2026")) == [
        "Ligne 2, qf : Quotient familial : saisissez un nombre entier entre 0 et 99999."
    ]
    assert _parse(_row(qf="500")) == ["Ligne 2, qf_date : obligatoire quand qf est rempli (JJ/MM/AAAA)."]
    assert _parse(_row(autorisation_photo="peut-être")) == ["Ligne 2, autorisation_photo : « peut-être » : oui ou non."]
    assert _parse(_row(facturation="partage")) == [
        "Ligne 2, facturation : resp2 ou partage demandent un responsable 2."
    ]


def test_cross_line_problems_name_both_lines():
    problems = _parse(
        _row(), _row(famille_nom="Famille Autre", enfant_id="E-2"), _row(famille_id="F-3", enfant_id="E-1")
    )
    assert "Ligne 3, famille_id : la famille F-1 est déjà décrite ligne 2 avec d'autres valeurs" in problems[0]
    assert problems[1] == "Ligne 4, enfant_id : l'enfant E-1 figure déjà ligne 2."


def test_missing_columns_and_empty_files_are_refused_in_french():
    assert next(p.sentence() for p in parse(b"nom;prenom\nA;B\n", REF).problems).startswith(
        "Ligne 1 : colonnes manquantes : famille_id"
    )
    assert [p.sentence() for p in parse(b"", REF).problems] == ["Ligne 1 : le fichier est vide."]


def test_the_template_has_every_column_in_order():
    text = template_csv().decode("utf-8-sig")
    assert text.splitlines()[0].split(";") == [c.name for c in COLUMNS]
