"""Bringing a town's families in from its current system, and taking them out again.

The administrator downloads the model, fills it (or exports it from the old software), checks the
file (`dry_run`: every problem by line, what would be created or changed, nothing written), then
imports exactly the file checked (`apply` refuses a file whose digest is not the one checked). The
import re-reads and re-compares inside its transaction and writes nothing if any line is wrong.
Importing the same file again changes nothing: families and children are found by the town's own
identifiers. A family or child absent from the file is left as it is (an import never archives), and
a registration is added or changed, never removed (bookings may hang on it). Accounts are not created
here: the guardians are invited afterwards (« Comptes des familles »)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime

from lib.domain.actor import Actor
from lib.domain.clock import to_utc_naive
from lib.domain.errors import InvalidInput
from lib.domain.families import LOGIN_ELSEWHERE, SCHOOL_CLASSES, ChildInput, login_diverges
from lib.domain.family_import import (
    ImportedChild,
    ImportedFamily,
    Plan,
    Problem,
    Reference,
    billing_cell,
    csv_file,
    day_cell,
    parse,
    template_csv,
    yes_no,
)
from lib.domain.records import SchoolYearRecord
from lib.domain.roles import Role
from lib.services.trail import refusals_audited
from lib.store import audit, reference
from lib.store import bookings as booking_store
from lib.store import families as family_store
from lib.store import family_import as store
from lib.store.db import Cursor, Database
from lib.store.family_import import Snapshot, StoredChild, StoredFamily

ENTITY = "import"


@dataclass(frozen=True)
class Counts:
    families_created: int = 0
    families_updated: int = 0
    families_unchanged: int = 0
    children_created: int = 0
    children_updated: int = 0
    children_unchanged: int = 0

    def sentence(self) -> str:
        return (
            f"Familles : {self.families_created} créée(s), {self.families_updated} modifiée(s), "
            f"{self.families_unchanged} inchangée(s). Enfants : {self.children_created} créé(s), "
            f"{self.children_updated} modifié(s), {self.children_unchanged} inchangé(s)."
        )


@dataclass(frozen=True)
class Report:
    """What a check or an import found: the file's digest (an import names the file it checked),
    its data lines, every problem, and what it would do (or did)."""

    sha256: str
    lines: int
    problems: tuple[Problem, ...]
    counts: Counts
    school_year: str | None  # the year registrations go to

    @property
    def valid(self) -> bool:
        return not self.problems


class ImportRefused(InvalidInput):
    """The file has problems: nothing was written. `report` lists them all."""

    def __init__(self, report: Report):
        first = report.problems[0].sentence() if report.problems else ""
        more = f" (et {len(report.problems) - 1} autre(s) problème(s))" if len(report.problems) > 1 else ""
        super().__init__(f"Fichier refusé, rien n'a été importé. {first}{more}")
        self.report = report


def template(actor: Actor) -> bytes:
    actor.require(Role.ADMIN)
    return template_csv()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _school_year(db: Database, now: datetime) -> SchoolYearRecord | None:
    """The year registrations go to: the current one, else (in summer) the next to start."""
    today = now.date()
    current = reference.current_school_year(db, today)
    if current is not None:
        return current
    coming = [y for y in reference.school_years(db) if y.start_date > today]
    return min(coming, key=lambda y: y.start_date) if coming else None


def _reference(db: Database, now: datetime) -> Reference:
    diets, sites, services, offered = store.reference_rows(db)
    return Reference(
        today=now.date(),
        classes=SCHOOL_CLASSES,
        diets=diets,
        sites=sites,
        services=services,
        site_services=offered,
        taken_emails=store.taken_emails(db),
    )


def _family_changed(new: ImportedFamily, old: StoredFamily) -> bool:
    if (new.name, new.billing) != (old.name, old.billing):
        return True
    if any(old.guardians.get(rank) != guardian for rank, guardian in enumerate(new.guardians, start=1)):
        return True
    return new.quotient is not None and new.quotient != old.quotient


def _child_changed(new: ImportedChild, old: StoredChild, family_id: int) -> bool:
    if old.family_id != family_id or old.child != new.child:
        return True
    if any(old.registrations.get(site) != services for site, services in new.registrations):
        return True
    return any(old.consents.get(kind) != granted for kind, granted in new.consents)


ARCHIVED = "dossier archivé : désarchivez-le d'abord dans « Familles »."


def _logins_parted(plan: Plan, families: dict[str, StoredFamily]) -> list[Problem]:
    """The file's guardians whose e-mail would part from their activated account's login (the
    family file's rule: only its holder changes it, in « Mon compte »)."""
    found: list[Problem] = []
    for imported in plan.families:
        stored = families.get(imported.town_ref)
        if stored is None:
            continue
        for rank, guardian in enumerate(imported.guardians, start=1):
            before, login = stored.guardians.get(rank), stored.logins.get(rank)
            if before is not None and login_diverges(before.email, guardian.email, login):
                message = f"ce responsable a un compte actif ({login}) ; {LOGIN_ELSEWHERE}"
                found.append(Problem(imported.line, f"resp{rank}_email", message))
    return found


def _problems_against_stored(plan: Plan, snap: Snapshot, year: SchoolYearRecord | None) -> list[Problem]:
    """What only the stored files can tell: an archived family or child of the file (an import never
    brings one back), a guardian's e-mail parting from his login, a child of the file already in
    another family of the portal than the file says, registrations with no school year open."""
    families = snap.family_by_ref()
    found = [
        Problem(f.line, "famille_id", ARCHIVED)
        for f in plan.families
        if f.town_ref in families and families[f.town_ref].archived
    ]
    found += _logins_parted(plan, families)
    for child in plan.children:
        assert child.child.town_ref is not None
        old = snap.child_by_ref().get(child.child.town_ref)
        family = families.get(child.family_ref)
        if old is not None and old.archived and not snap.families[old.family_id].archived:  # else: its family's line
            found.append(Problem(child.line, "enfant_id", ARCHIVED))
        if old is not None and family is not None and old.family_id != family.id:
            found.append(
                Problem(
                    child.line,
                    "enfant_id",
                    f"l'enfant {child.child.town_ref} est dans une autre famille du portail : "
                    "un changement de famille se fait dans la fiche de l'enfant.",
                )
            )
        if child.registrations and year is None:
            found.append(Problem(child.line, "enfant_structure", "aucune année scolaire ouverte : ouvrez-la d'abord."))
    return found


def _counts(plan: Plan, snap: Snapshot) -> Counts:
    families = snap.family_by_ref()
    children = snap.child_by_ref()
    f_new = sum(f.town_ref not in families for f in plan.families)
    f_changed = sum(f.town_ref in families and _family_changed(f, families[f.town_ref]) for f in plan.families)
    c_new = c_changed = 0
    for child in plan.children:
        assert child.child.town_ref is not None
        old = children.get(child.child.town_ref)
        family = families.get(child.family_ref)
        if old is None:
            c_new += 1
        elif family is None or _child_changed(child, old, family.id):
            c_changed += 1
    return Counts(
        f_new,
        f_changed,
        len(plan.families) - f_new - f_changed,
        c_new,
        c_changed,
        len(plan.children) - c_new - c_changed,
    )


def _check(db: Database, data: bytes, now: datetime) -> tuple[Plan, Snapshot, Report, SchoolYearRecord | None]:
    year = _school_year(db, now)
    plan = parse(data, _reference(db, now))
    snap = store.snapshot(db, year.id if year else None)
    problems = sorted([*plan.problems, *_problems_against_stored(plan, snap, year)], key=lambda p: p.line)
    report = Report(digest(data), plan.lines, tuple(problems), _counts(plan, snap), year.label if year else None)
    return plan, snap, report, year


def dry_run(db: Database, actor: Actor, data: bytes, now: datetime) -> Report:
    """Check the file: every problem by line, and what importing it would create or change. Nothing
    is written but, for a refused file, a line in the journal."""
    actor.require(Role.ADMIN)
    _plan, _snap, report, _year = _check(db, data, now)
    if not report.valid:
        audit.record_refusal(
            db,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="import.refused",
            entity=ENTITY,
            entity_id=report.sha256[:12],
            reason=f"{len(report.problems)} problème(s) ; {report.problems[0].sentence()}"[:500],
        )
    return report


def apply(db: Database, actor: Actor, data: bytes, checked_sha256: str, now: datetime) -> Report:
    """Import the file that was checked: refused unless its digest is `checked_sha256`; checked again
    inside the transaction; all of it or nothing."""
    actor.require(Role.ADMIN)
    with refusals_audited(db, actor, now, "import.refused", ENTITY, checked_sha256[:12]):
        if digest(data) != checked_sha256:
            raise InvalidInput("Ce fichier n'est pas celui qui a été vérifié : vérifiez-le à nouveau avant d'importer.")

        def work(cur: Cursor) -> Report:
            plan, snap, report, year = _check(db, data, now)
            if not report.valid:
                raise ImportRefused(report)
            _write(cur, actor, plan, snap, year, now)
            audit.record(
                cur,
                at_utc=to_utc_naive(now),
                user_id=actor.user_id,
                action="import.applied",
                entity=ENTITY,
                entity_id=report.sha256[:12],
                after={"sha256": report.sha256, "lignes": report.lines, **asdict(report.counts)},
            )
            return report

        return db.write(work)


def _write(cur: Cursor, actor: Actor, plan: Plan, snap: Snapshot, year: SchoolYearRecord | None, now: datetime) -> None:
    at = to_utc_naive(now)
    families = snap.family_by_ref()
    ids: dict[str, int] = {}
    for family in plan.families:
        old = families.get(family.town_ref)
        if old is None:
            family_id = family_store.insert_family(cur, family.name, family.town_ref, at)
        elif _family_changed(family, old):
            family_id = old.id
        else:
            ids[family.town_ref] = old.id
            continue
        for rank, guardian in enumerate(family.guardians, start=1):
            if old is None or old.guardians.get(rank) != guardian:
                family_store.save_guardian(cur, family_id, rank, guardian)
        family_store.update_family(cur, family_id, family.name, family.town_ref, family.billing)
        if family.quotient is not None and (old is None or old.quotient != family.quotient):
            family_store.set_quotient(cur, family_id, family.quotient, actor.user_id, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="family.create" if old is None else "family.update",
            entity="family",
            entity_id=family_id,
            after={"name": family.name, "town_ref": family.town_ref, "origine": "import"},
        )
        ids[family.town_ref] = family_id
    children = snap.child_by_ref()
    for child in plan.children:
        assert child.child.town_ref is not None
        family_id = ids[child.family_ref]
        old_child = children.get(child.child.town_ref)
        if old_child is not None and not _child_changed(child, old_child, family_id):
            continue
        if old_child is None:
            child_id = family_store.insert_child(cur, family_id, child.child)
        else:
            child_id = old_child.id
            if old_child.child != child.child:
                family_store.update_child(cur, child_id, child.child)
        if year is not None:
            for site_id, services in child.registrations:
                if old_child is None or old_child.registrations.get(site_id) != services:
                    booking_store.save_registration(cur, child_id, year.id, site_id, list(services), at)
        for kind, granted in child.consents:
            if old_child is None or old_child.consents.get(kind) != granted:
                family_store.save_consent(cur, family_id, child_id, kind, granted, actor.user_id, at)
        audit.record(
            cur,
            at_utc=at,
            user_id=actor.user_id,
            action="child.create" if old_child is None else "child.update",
            entity="child",
            entity_id=child_id,
            after={**_child_audit(child.child), "origine": "import"},
        )


def _child_audit(child: ChildInput) -> dict[str, object]:
    return {
        "first_name": child.first_name,
        "last_name": child.last_name,
        "school_class": child.school_class,
        "town_ref": child.town_ref,
    }


# --- export -----------------------------------------------------------------------------------------


def export(db: Database, actor: Actor, now: datetime) -> bytes:
    """Every family and child in the import's columns (the same file can be imported back: it changes
    nothing). Audited: the file holds the town's families."""
    actor.require(Role.ADMIN)
    year = _school_year(db, now)
    snap = store.snapshot(db, year.id if year else None)
    site_names, service_codes = store.names(db)
    rows: list[dict[str, object]] = []
    by_family: dict[int, list[StoredChild]] = {}
    for child in snap.children.values():
        by_family.setdefault(child.family_id, []).append(child)
    for family in snap.families.values():
        base = _family_row(family)
        kids = by_family.get(family.id, [])
        if not kids:
            rows.append(base)
        for child in kids:
            rows.append({**base, **_child_row(child, site_names, service_codes)})
    db.write(
        lambda cur: audit.record(
            cur,
            at_utc=to_utc_naive(now),
            user_id=actor.user_id,
            action="import.export",
            entity=ENTITY,
            entity_id="familles",
            after={"familles": len(snap.families), "enfants": len(snap.children)},
        )
    )
    return csv_file(rows)


def _family_row(family: StoredFamily) -> dict[str, object]:
    row: dict[str, object] = {"famille_id": family.town_ref or "", "famille_nom": family.name}
    for rank, guardian in family.guardians.items():
        prefix = f"resp{rank}_"
        row |= {
            prefix + "prenom": guardian.first_name,
            prefix + "nom": guardian.last_name,
            prefix + "email": guardian.email or "",
            prefix + "telephone": guardian.phone or "",
            prefix + "adresse": guardian.address or "",
        }
    row["facturation"] = billing_cell(family.billing)
    if family.quotient is not None:
        row |= {
            "qf": family.quotient.qf,
            "qf_date": day_cell(family.quotient.valid_from),
            "qf_source": family.quotient.source.label,
            "qf_allocataire": family.quotient.allocataire_no or "",
        }
    return row


def _child_row(child: StoredChild, site_names: dict[int, str], service_codes: dict[int, str]) -> dict[str, object]:
    sites = sorted(child.registrations)
    return {
        "enfant_id": child.child.town_ref or "",
        "enfant_prenom": child.child.first_name,
        "enfant_nom": child.child.last_name,
        "enfant_naissance": day_cell(child.child.birth_date),
        "enfant_classe": child.child.school_class,
        "enfant_regime": child.child.diet_code,
        "enfant_structure": "|".join(site_names[s] for s in sites),
        "enfant_prestations": "|".join(service_codes[sv] for s in sites for sv in child.registrations[s]),
        **{f"autorisation_{kind.value}": yes_no(granted) for kind, granted in child.consents.items()},
    }
