"""The families' CSV file a town brings from its current system, and the one the portal exports.

One line per child (the family's and guardians' columns repeated on each of its children's lines; a
family with no child yet has one line with empty child columns). The columns are defined once, in
`COLUMNS`: the downloadable template, the README's table, the export and the reading all come from
it. A file is read whole before anything is written: `parse` returns every problem with its line
number and column in French, and the import writes nothing unless there is none. Families are
keyed on the town's own identifier (`famille_id`), children on `enfant_id`, guardians on their rank:
importing the same file again changes nothing. No health data travels by spreadsheet (the PAI is
entered in the child's file)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from lib.domain.errors import InvalidInput
from lib.domain.families import (
    BillingMode,
    ChildInput,
    ConsentKind,
    GuardianInput,
    QfSource,
    QuotientInput,
    check_child,
    check_guardian,
    check_name,
    check_qf,
    check_quotient,
    check_town_ref,
    email_elsewhere,
)
from lib.domain.spreadsheet import csv_bytes
from lib.domain.validation import fold

T = TypeVar("T")
MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000
LIST_SEPARATOR = "|"  # between prestation codes in one cell


@dataclass(frozen=True)
class Column:
    name: str
    required: bool  # on a line that has the part (family, guardian 2, child) at all
    example: str
    description: str  # French: the README's table and the template's second line


COLUMNS: tuple[Column, ...] = (
    Column("famille_id", True, "F-0042", "Identifiant de la famille dans le logiciel actuel de la mairie (unique)."),
    Column("famille_nom", True, "Famille Martin", "Nom de la famille tel qu'il s'affiche."),
    Column("resp1_prenom", True, "Claire", "Responsable 1 : prénom."),
    Column("resp1_nom", True, "Martin", "Responsable 1 : nom."),
    Column("resp1_email", False, "claire.martin@example.fr", "Responsable 1 : e-mail (pour l'invitation)."),
    Column("resp1_telephone", False, "06 12 34 56 78", "Responsable 1 : téléphone."),
    Column("resp1_adresse", False, "3 rue des Écoles 75000 Ville", "Responsable 1 : adresse postale."),
    Column("resp2_prenom", False, "Paul", "Responsable 2 (facultatif) : prénom."),
    Column("resp2_nom", False, "Martin", "Responsable 2 : nom (obligatoire si un autre champ resp2 est rempli)."),
    Column("resp2_email", False, "paul.martin@example.fr", "Responsable 2 : e-mail."),
    Column("resp2_telephone", False, "06 98 76 54 32", "Responsable 2 : téléphone."),
    Column("resp2_adresse", False, "", "Responsable 2 : adresse postale."),
    Column("facturation", False, "resp1", "Qui reçoit les factures : resp1 (défaut), resp2 ou partage."),
    Column("qf", False, "850", "Quotient familial (nombre entier) ; vide si inconnu."),
    Column("qf_date", False, "01/09/2026", "Date du quotient familial (JJ/MM/AAAA), obligatoire avec qf."),
    Column("qf_source", False, "CAF", "Origine du quotient : CAF, MSA, attestation ou autre."),
    Column("qf_allocataire", False, "1234567", "Numéro d'allocataire CAF ou MSA (chiffres)."),
    Column(
        "enfant_id", False, "E-0101", "Identifiant de l'enfant dans le logiciel actuel (unique) ; vide : pas d'enfant."
    ),
    Column("enfant_prenom", True, "Alice", "Prénom de l'enfant."),
    Column("enfant_nom", True, "Martin", "Nom de l'enfant."),
    Column("enfant_naissance", True, "14/03/2018", "Date de naissance (JJ/MM/AAAA)."),
    Column("enfant_classe", True, "CE2", "Classe : PS, MS, GS, CP, CE1, CE2, CM1 ou CM2."),
    Column("enfant_regime", False, "standard", "Régime alimentaire : code ou libellé (vide : le premier de la liste)."),
    Column(
        "enfant_structure",
        False,
        "École Jules Ferry",
        "Structure(s) où l'enfant est inscrit cette année : leur nom, séparés par « | ».",
    ),
    Column(
        "enfant_prestations",
        False,
        "cantine",
        "Codes des prestations séparés par « | » (chacune proposée par une des structures indiquées).",
    ),
    Column("autorisation_photo", False, "oui", "Droit à l'image : oui ou non (vide : non)."),
    Column("autorisation_sorties", False, "oui", "Sorties hors de la structure : oui ou non (vide : non)."),
)
NAMES = tuple(c.name for c in COLUMNS)
_CHILD_COLUMNS = tuple(n for n in NAMES if n.startswith(("enfant_", "autorisation_")))
_GUARDIAN2 = tuple(n for n in NAMES if n.startswith("resp2_"))
_BILLING = {"": BillingMode.GUARDIAN1, "resp1": BillingMode.GUARDIAN1, "resp2": BillingMode.GUARDIAN2}
_BILLING["partage"] = BillingMode.SPLIT
_YES = {"oui": True, "o": True, "1": True, "x": True, "non": False, "n": False, "0": False, "": False}
_SOURCES = {fold(s.label): s for s in QfSource} | {s.value: s for s in QfSource}


@dataclass(frozen=True)
class Problem:
    line: int  # the file's line number, the header being line 1
    column: str  # "" when the whole line or file is concerned
    message: str

    def sentence(self) -> str:
        where = f"Ligne {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where} : {self.message}"


@dataclass(frozen=True)
class Reference:
    """What the town has configured, that a file's names and codes must match."""

    today: date
    classes: Sequence[str]
    diets: Mapping[str, str]  # code → label
    sites: Mapping[str, int]  # name → id
    services: Mapping[str, int]  # code → id
    site_services: frozenset[tuple[int, int]]  # (site, service) the town offers
    # e-mail → the town_ref of each family whose guardian or account holds it already (None: no ref)
    taken_emails: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedFamily:
    town_ref: str
    name: str
    guardians: tuple[GuardianInput, ...]  # rank 1, then rank 2 if any
    billing: BillingMode
    quotient: QuotientInput | None
    line: int  # its first line


@dataclass(frozen=True)
class ImportedChild:
    family_ref: str
    child: ChildInput  # town_ref set
    registrations: tuple[tuple[int, tuple[int, ...]], ...]  # (site, service ids) in the school year
    consents: tuple[tuple[ConsentKind, bool], ...]
    line: int


@dataclass(frozen=True)
class Plan:
    families: tuple[ImportedFamily, ...]
    children: tuple[ImportedChild, ...]
    problems: tuple[Problem, ...]
    lines: int  # data lines read

    @property
    def valid(self) -> bool:
        return not self.problems and bool(self.families)


# --- reading the bytes ----------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, list[Problem]]:
    """The file's text: UTF-8 (with or without a BOM) when it is valid UTF-8, else Windows-1252, the
    encoding of a French Excel's « CSV (séparateur : point-virgule) ». A byte neither can read is a
    problem at its line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    problems: list[Problem] = []
    lines: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("cp1252"))
        except UnicodeDecodeError as exc:
            byte = raw[exc.start]
            problems.append(
                Problem(number, "", f"caractère illisible (octet 0x{byte:02X}) : enregistrez le fichier en UTF-8.")
            )
            lines.append(raw.decode("cp1252", errors="replace"))
    return "\n".join(lines), problems


def separator(header_line: str) -> str:
    """`;` or `,`: the one the header line uses more (csv.Sniffer guesses wrong on short files)."""
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def _header_name(cell: str) -> str:
    return fold(cell.strip().lstrip("\ufeff")).replace(" ", "_").replace("-", "_")


def _cell(value: str) -> str:
    """A cell's text, trimmed; the quote our own export puts before a cell a spreadsheet could run."""
    text = value.strip()
    return text[1:] if text.startswith("'") and text[1:2] in "=+-@" and len(text) > 1 else text


def _day(value: str, column: str, line: int, problems: list[Problem]) -> date | None:
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        problems.append(Problem(line, column, f"date illisible « {value[:20]} » (attendu JJ/MM/AAAA)."))
        return None


def _checked(problems: list[Problem], line: int, column: str, check: Callable[..., T], *args: object) -> T | None:
    """`check(*args)`, or None with its French refusal recorded at `line`."""
    try:
        return check(*args)
    except InvalidInput as exc:
        problems.append(Problem(line, column, exc.message))
        return None


# --- the whole file ---------------------------------------------------------------------------------


def parse(data: bytes, ref: Reference) -> Plan:
    """Every family and child of the file, checked against the town's configuration, with every
    problem found (not only the first)."""
    if len(data) > MAX_BYTES:
        return Plan((), (), (Problem(1, "", f"fichier trop gros (au plus {MAX_BYTES // 1024 // 1024} Mo)."),), 0)
    text, problems = decode(data)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator(first))
    try:
        header = next(reader)
    except StopIteration:
        return Plan((), (), (Problem(1, "", "le fichier est vide."),), 0)
    except csv.Error as exc:
        return Plan((), (), (Problem(1, "", f"en-tête illisible ({exc})."),), 0)
    index = {_header_name(h): i for i, h in enumerate(header)}
    missing = [c.name for c in COLUMNS if c.name not in index]
    if missing:
        return Plan(
            (),
            (),
            (Problem(1, "", "colonnes manquantes : " + ", ".join(missing) + " (voir le modèle)."),),
            0,
        )
    families: dict[str, ImportedFamily] = {}
    family_lines: dict[str, list[str]] = {}
    children: list[ImportedChild] = []
    child_lines: dict[str, int] = {}
    email_lines: dict[str, tuple[str, int]] = {}
    count = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(reader.line_num, "", f"ligne illisible ({exc})."))
            break
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        count += 1
        if count > MAX_LINES:
            problems.append(Problem(line, "", f"trop de lignes (au plus {MAX_LINES})."))
            break
        values = {name: _cell(row[i]) if i < len(row) else "" for name, i in index.items()}
        family = _family(values, line, ref, problems)
        if family is None:
            continue
        same = families.get(family.town_ref)
        if same is None:
            families[family.town_ref] = family
            family_lines[family.town_ref] = [values[n] for n in NAMES if not n.startswith(("enfant_", "autorisation_"))]
            for rank, guardian in enumerate(family.guardians, start=1):
                if guardian.email:
                    column = f"resp{rank}_email"
                    _email_once(guardian.email, column, family.town_ref, line, ref, email_lines, problems)
        elif family_lines[family.town_ref] != [
            values[n] for n in NAMES if not n.startswith(("enfant_", "autorisation_"))
        ]:
            problems.append(
                Problem(
                    line,
                    "famille_id",
                    f"la famille {family.town_ref} est déjà décrite ligne {same.line} avec d'autres valeurs "
                    "(les colonnes de la famille doivent être identiques sur chaque ligne de ses enfants).",
                )
            )
        if values["enfant_id"] or any(values[n] for n in _CHILD_COLUMNS if n != "enfant_id"):
            child = _child(values, family.town_ref, line, ref, problems)
            if child is not None:
                assert child.child.town_ref is not None
                seen = child_lines.get(child.child.town_ref)
                if seen is not None:
                    problems.append(
                        Problem(line, "enfant_id", f"l'enfant {child.child.town_ref} figure déjà ligne {seen}.")
                    )
                else:
                    child_lines[child.child.town_ref] = line
                    children.append(child)
    if count == 0 and not problems:
        problems.append(Problem(2, "", "aucune famille dans le fichier (seulement l'en-tête)."))
    return Plan(tuple(families.values()), tuple(children), tuple(sorted(problems, key=lambda p: p.line)), count)


def _email_once(
    email: str,
    column: str,
    family_ref: str,
    line: int,
    ref: Reference,
    seen: dict[str, tuple[str, int]],
    problems: list[Problem],
) -> None:
    """An e-mail is one person's login: never two families'."""
    earlier = seen.get(email)
    if earlier is not None and earlier[0] != family_ref:
        problems.append(Problem(line, column, f"l'adresse {email} est déjà celle de la famille ligne {earlier[1]}."))
        return
    seen[email] = (family_ref, line)
    if email_elsewhere(ref.taken_emails.get(email, ()), family_ref):
        problems.append(Problem(line, column, f"l'adresse {email} est déjà celle d'un autre compte du portail."))


def _family(values: Mapping[str, str], line: int, ref: Reference, problems: list[Problem]) -> ImportedFamily | None:
    before = len(problems)
    town_ref = _checked(problems, line, "famille_id", check_town_ref, values["famille_id"], "famille_id")
    if not values["famille_id"]:
        problems.append(Problem(line, "famille_id", "obligatoire (l'identifiant de la famille dans votre logiciel)."))
    name = _checked(problems, line, "famille_nom", check_name, values["famille_nom"], "famille_nom")
    guardians: list[GuardianInput] = []
    for rank in (1, 2):
        prefix = f"resp{rank}_"
        if rank == 2 and not any(values[n] for n in _GUARDIAN2):
            continue
        typed = GuardianInput(
            first_name=values[prefix + "prenom"],
            last_name=values[prefix + "nom"],
            email=values[prefix + "email"] or None,
            phone=values[prefix + "telephone"] or None,
            address=values[prefix + "adresse"] or None,
        )
        guardian = _checked(problems, line, f"resp{rank}", check_guardian, typed, rank)
        if guardian is not None:
            guardians.append(guardian)
    billing = _BILLING.get(fold(values["facturation"]))
    if billing is None:
        problems.append(Problem(line, "facturation", f"« {values['facturation'][:20]} » : resp1, resp2 ou partage."))
    elif billing is not BillingMode.GUARDIAN1 and len(guardians) < 2 and len(problems) == before:
        problems.append(Problem(line, "facturation", "resp2 ou partage demandent un responsable 2."))
    quotient = _quotient(values, line, ref, problems)
    if len(problems) > before or town_ref is None or name is None or billing is None:
        return None
    return ImportedFamily(town_ref, name, tuple(guardians), billing, quotient, line)


def _quotient(values: Mapping[str, str], line: int, ref: Reference, problems: list[Problem]) -> QuotientInput | None:
    if not values["qf"]:
        if values["qf_date"] or values["qf_allocataire"]:
            problems.append(Problem(line, "qf", "vide alors que qf_date ou qf_allocataire est rempli."))
        return None
    if not values["qf_date"]:
        problems.append(Problem(line, "qf_date", "obligatoire quand qf est rempli (JJ/MM/AAAA)."))
        return None
    day = _day(values["qf_date"], "qf_date", line, problems)
    source = _SOURCES.get(fold(values["qf_source"] or "autre"))
    if source is None:
        problems.append(Problem(line, "qf_source", f"« {values['qf_source'][:20]} » : CAF, MSA, attestation ou autre."))
    if day is None or source is None:
        return None
    raw = values["qf"].replace(" ", "").replace("\u00a0", "")
    qf = _checked(problems, line, "qf", check_qf, int(raw) if raw.isascii() and raw.isdigit() else raw)
    if qf is None:
        return None
    typed = QuotientInput(qf, day, source, values["qf_allocataire"] or None)
    return _checked(problems, line, "qf", check_quotient, typed, ref.today)


def _diet(value: str, ref: Reference) -> str | None:
    if not value:
        return next(iter(ref.diets), None)
    wanted = fold(value)
    for code, label in ref.diets.items():
        if wanted in (fold(code), fold(label)):
            return code
    return None


def _child(
    values: Mapping[str, str], family_ref: str, line: int, ref: Reference, problems: list[Problem]
) -> ImportedChild | None:
    before = len(problems)
    if not values["enfant_id"]:
        problems.append(Problem(line, "enfant_id", "obligatoire pour une ligne d'enfant."))
    town_ref = _checked(problems, line, "enfant_id", check_town_ref, values["enfant_id"], "enfant_id")
    born = _day(values["enfant_naissance"], "enfant_naissance", line, problems) if values["enfant_naissance"] else None
    if not values["enfant_naissance"]:
        problems.append(Problem(line, "enfant_naissance", "obligatoire (JJ/MM/AAAA)."))
    diet = _diet(values["enfant_regime"], ref)
    if diet is None:
        known = ", ".join(ref.diets) or "aucun régime configuré"
        problems.append(Problem(line, "enfant_regime", f"« {values['enfant_regime'][:30]} » inconnu ({known})."))
    school_class = values["enfant_classe"].upper()
    if school_class not in ref.classes:
        problems.append(
            Problem(line, "enfant_classe", f"« {values['enfant_classe'][:10]} » : {', '.join(ref.classes)}.")
        )
    child = None
    if born is not None and diet is not None and school_class in ref.classes:
        typed = ChildInput(values["enfant_prenom"], values["enfant_nom"], born, school_class, diet, town_ref)
        child = _checked(problems, line, "enfant", check_child, typed, ref.today, ref.classes, list(ref.diets))
    registrations = _registrations(values, line, ref, problems)
    consents: list[tuple[ConsentKind, bool]] = []
    for kind in ConsentKind:
        column = f"autorisation_{kind.value}"
        answer = _YES.get(fold(values[column]))
        if answer is None:
            problems.append(Problem(line, column, f"« {values[column][:10]} » : oui ou non."))
        else:
            consents.append((kind, answer))
    if len(problems) > before or child is None or town_ref is None:
        return None
    return ImportedChild(family_ref, child, registrations, tuple(consents), line)


def _registrations(
    values: Mapping[str, str], line: int, ref: Reference, problems: list[Problem]
) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """(site, its service ids) for each structure of the line: each prestation goes to the one listed
    structure that offers it."""
    names = [n.strip() for n in values["enfant_structure"].split(LIST_SEPARATOR) if n.strip()]
    codes = [c.strip().lower() for c in values["enfant_prestations"].split(LIST_SEPARATOR) if c.strip()]
    if not names:
        if codes:
            problems.append(Problem(line, "enfant_structure", "obligatoire quand des prestations sont indiquées."))
        return ()
    by_fold = {fold(name): id_ for name, id_ in ref.sites.items()}
    sites: dict[int, list[int]] = {}
    for name in names:
        site_id = by_fold.get(fold(name))
        if site_id is None:
            known = ", ".join(ref.sites) or "aucune structure configurée"
            problems.append(Problem(line, "enfant_structure", f"« {name[:60]} » inconnue ({known})."))
        else:
            sites.setdefault(site_id, [])
    for code in codes:
        service_id = ref.services.get(code)
        if service_id is None:
            known = ", ".join(ref.services) or "aucune prestation configurée"
            problems.append(Problem(line, "enfant_prestations", f"« {code[:30]} » inconnue ({known})."))
            continue
        offering = [site for site in sites if (site, service_id) in ref.site_services]
        if len(offering) != 1 and len(sites) == len(names):
            where = "aucune des structures indiquées" if not offering else "plusieurs des structures indiquées"
            problems.append(Problem(line, "enfant_prestations", f"« {code} » : proposée par {where}."))
        elif offering and service_id not in sites[offering[0]]:
            sites[offering[0]].append(service_id)
    return tuple((site, tuple(sorted(services))) for site, services in sites.items())


# --- writing the same columns ---------------------------------------------------------------------


def template_csv() -> bytes:
    """The downloadable model: the header, then one example line per column's example."""
    return csv_bytes(NAMES, [[c.example for c in COLUMNS]])


def csv_file(rows: Iterable[Mapping[str, object]]) -> bytes:
    """A file in the import's columns (the export): each row a mapping of column name to value."""
    return csv_bytes(NAMES, ([row.get(name, "") for name in NAMES] for row in rows))


def day_cell(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def billing_cell(mode: BillingMode) -> str:
    return {v: k for k, v in _BILLING.items() if k}[mode]


def yes_no(value: bool) -> str:
    return "oui" if value else "non"
