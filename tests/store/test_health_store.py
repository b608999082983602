"""Health data stays in its own tables, named by one store module; the old free-text column is
neither read nor written; the requests' states are the domain's enum."""

import re
from pathlib import Path

from lib.domain.health import RequestState

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = ROOT / "lib" / "store" / "migrations" / "010_child_health.sql"


def _sources(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_only_the_health_store_names_the_health_tables():
    # In a statement or as a quoted table name (`services.health.child_health` is a function).
    named = re.compile(r"(FROM|JOIN|INTO|UPDATE|TABLE)\s+child_health\b|[\"']child_health(_requests)?[\"']", re.I)
    found = [
        str(p.relative_to(ROOT))
        for p in _sources("lib/store", "lib/services", "lib/ui", "lib/web", "lib/tools", "pages", "bench")
        if named.search(p.read_text(encoding="utf-8")) and p != ROOT / "lib" / "store" / "health.py"
    ]
    assert found == []
    assert named.search((ROOT / "lib" / "store" / "health.py").read_text(encoding="utf-8"))  # the scan works


def test_nothing_reads_or_writes_the_emptied_health_notes_column():
    found = [
        str(p.relative_to(ROOT))
        for p in [*_sources("lib", "pages", "bench"), ROOT / "app.py", ROOT / "server.py"]
        if "health_notes" in p.read_text(encoding="utf-8")
    ]
    assert found == []


def test_the_requests_states_are_the_domains_enum():
    body = MIGRATION.read_text(encoding="utf-8")
    allowed = re.search(r"state\s+VARCHAR NOT NULL CHECK \(state IN \(([^)]*)\)\)", body)
    assert allowed is not None
    assert set(re.findall(r"'([^']*)'", allowed[1])) == {s.value for s in RequestState}
    store = (ROOT / "lib" / "store" / "health.py").read_text(encoding="utf-8")
    assert not re.search(r"state\s*(=|IN)\s*\(?\s*'(pending|accepted|refused)'", store)
