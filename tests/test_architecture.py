"""The layers of docs/architecture.md hold: a page that reaches for SQL fails here, and
so does a use case, a route or a tool that writes SQL outside lib/store."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "app.py", ROOT / "server.py", *sorted((ROOT / "pages").glob("*.py"))]
FORBIDDEN_IN_SCRIPTS = ("duckdb", "psycopg", "psycopg_pool", "lib.store", "lib.tools")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offending(names: set[str]) -> set[str]:
    return {n for n in names for bad in FORBIDDEN_IN_SCRIPTS if n == bad or n.startswith(bad + ".")}


def test_app_and_pages_never_import_the_database():
    assert len(SCRIPTS) > 3
    leaks = {p.name: offending(imported_modules(p)) for p in SCRIPTS}
    assert {name: bad for name, bad in leaks.items() if bad} == {}


def test_the_script_check_would_catch_a_leak(tmp_path):
    bad = tmp_path / "page.py"
    bad.write_text(
        "import duckdb\nfrom lib.store.db import open_database\nfrom lib.services import home\nimport lib.tools.demo\n"
        "import psycopg\n"
    )
    assert offending(imported_modules(bad)) == {
        "duckdb",
        "psycopg",
        "lib.store.db",
        "lib.store.db.open_database",
        "lib.tools.demo",
    }


# --- SQL only in lib/store ----------------------------------------------------------------------------
# Calls that run SQL on a DuckDB connection or cursor.
SQL_RUNNERS = {"execute", "executemany", "sql"}
# `Database` helpers whose first argument is SQL: a string written at the call is a query.
SQL_READERS = {"rows", "row", "value", "dicts", "frame"}


def code_outside_the_store(root: Path) -> list[Path]:
    """The app's Python files under `root` that must hold no SQL: lib/ but lib/store, pages/, the scripts."""
    in_lib = [p for p in sorted((root / "lib").rglob("*.py")) if p.relative_to(root).parts[:2] != ("lib", "store")]
    return [*in_lib, *sorted((root / "pages").glob("*.py")), root / "app.py", root / "server.py"]


def sql_outside_the_store(root: Path) -> list[str]:
    """`path:line: call` of every place outside lib/store that runs SQL of its own."""
    found = []
    for path in code_outside_the_store(root):
        calls = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            query_here = bool(node.args) and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))
            if name in SQL_RUNNERS or (name in SQL_READERS and query_here):
                calls.append((node.lineno, name))
        found += [f"{path.relative_to(root)}:{line}: .{name}(" for line, name in sorted(calls)]
    return found


def test_sql_lives_only_in_the_store():
    assert len(code_outside_the_store(ROOT)) > 50
    assert sql_outside_the_store(ROOT) == []


def test_the_sql_check_would_catch_a_leak(tmp_path):
    for script in ("app.py", "server.py"):
        (tmp_path / script).write_text("import streamlit as st\n")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "page.py").write_text("rows = db.rows(f'SELECT * FROM t WHERE id = {x}')\n")
    for package in ("services", "tools", "store"):
        (tmp_path / "lib" / package).mkdir(parents=True)
    (tmp_path / "lib" / "services" / "leak.py").write_text(
        "def number(cur, i):\n    return cur.execute('SELECT number FROM invoices WHERE id = ?', [i])\n"
    )
    (tmp_path / "lib" / "tools" / "leak.py").write_text("con.sql('CHECKPOINT')\ndb.value(query)\nsettings.get('x')\n")
    (tmp_path / "lib" / "store" / "fine.py").write_text("cur.execute('SELECT 1')\n")
    assert sql_outside_the_store(tmp_path) == [
        "lib/services/leak.py:2: .execute(",
        "lib/tools/leak.py:1: .sql(",
        "pages/page.py:1: .rows(",
    ]


# A family, a child or a guardian leaving the town is archived, never deleted: its invoices, bookings
# and audit entries keep naming it.
KEPT_TABLES = ("families", "children", "guardians")


def deletes_of_kept_rows(root: Path) -> list[str]:
    """`path: statement` of every DELETE (or TRUNCATE, or DROP of the table) of a kept table in the
    app's code and migrations (a migration may still copy a table: `DROP TABLE families` after the copy
    is how 009 rebuilt it, and is allowed there alone)."""
    import re

    kept = "|".join(KEPT_TABLES)
    statement = re.compile(rf"\b(DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|DROP\s+TABLE)\s+\"?({kept})\"?(?!\w)", re.I)
    paths = [*sorted((root / "lib").rglob("*.py")), *sorted((root / "pages").glob("*.py"))]
    found = [f"{p.relative_to(root)}: {m.group(0)}" for p in paths for m in statement.finditer(p.read_text())]
    copied = {"lib/store/migrations/009_family_files.sql: DROP TABLE families"}
    for sql in sorted((root / "lib" / "store").rglob("*.sql")):
        for m in statement.finditer(sql.read_text()):
            line = f"{sql.relative_to(root)}: {m.group(0)}"
            if line not in copied:
                found.append(line)
    return found


def test_families_children_and_guardians_are_never_deleted():
    assert deletes_of_kept_rows(ROOT) == []


def test_the_deletion_check_would_catch_a_leak(tmp_path):
    (tmp_path / "lib" / "store" / "migrations").mkdir(parents=True)
    (tmp_path / "pages").mkdir()
    (tmp_path / "lib" / "store" / "leak.py").write_text(
        'cur.execute("DELETE FROM children WHERE id = ?")\ncur.execute("DELETE FROM children_tmp")\n'
    )
    (tmp_path / "lib" / "store" / "migrations" / "010_x.sql").write_text("delete from guardians;\n")
    (tmp_path / "pages" / "p.py").write_text("q = 'TRUNCATE families'\n")
    assert deletes_of_kept_rows(tmp_path) == [
        "lib/store/leak.py: DELETE FROM children",
        "pages/p.py: TRUNCATE families",
        "lib/store/migrations/010_x.sql: delete from guardians",
    ]


LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def test_import_linter_contracts_hold():
    result = subprocess.run(
        [LINT_IMPORTS, "--config", ".importlinter", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "11 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("leak", "source", "broken"),
    [
        ("domain/leak.py", "import streamlit\n", "lib.domain.leak -> streamlit"),
        ("services/leak.py", "import duckdb\n", "lib.services.leak -> duckdb"),
        ("services/leak.py", "import psycopg\n", "lib.services.leak -> psycopg"),
        ("ui/leak.py", "from psycopg_pool import ConnectionPool\n", "lib.ui.leak -> psycopg_pool"),
        ("services/leak.py", "from lib.tools import demo\n", "lib.services.leak -> lib.tools.demo"),
        ("tools/leak.py", "from lib.ui import layout\n", "lib.tools.leak -> lib.ui.layout"),
        ("mail/leak.py", "import duckdb\n", "lib.mail.leak -> duckdb"),
    ],
)
def test_import_linter_catches_a_leak(tmp_path, leak, source, broken):
    # The same contracts, run on a copy of lib/ with one bad import added, must fail.
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "lib", copy / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    (copy / "lib" / leak).write_text(source)
    result = subprocess.run(
        [LINT_IMPORTS, "--config", ".importlinter", "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert broken in result.stdout


def _named_paths(text: str) -> set[str]:
    """Paths of the tree a document names in backquotes (`lib/store/db.py`, `tests/helpers.py`)."""
    import re

    found = set()
    for quoted in re.findall(r"`([^`\s]+)`", text):
        path = quoted.split("(")[0].rstrip(".,:;")
        if re.fullmatch(r"(lib|tests|pages|bench|docs)/[\w./-]*|app\.py|server\.py", path) and "*" not in path:
            found.add(path.rstrip("/"))
    return found


def _exists(path: str, root: Path = ROOT) -> bool:
    """A file or folder of the tree, or `lib/ui/session` (a module), or `lib/ui/errors.refusals_shown`
    (a name a module defines)."""
    import re

    if (root / path).exists():
        return True
    folder, _, last = path.rpartition("/")
    module, _, name = last.partition(".")
    source = root / folder / f"{module}.py"
    if not source.exists():
        return False
    return not name or bool(
        re.search(
            rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b|^{name}\s*[:=]", source.read_text(encoding="utf-8"), re.M
        )
    )


def test_the_architecture_document_and_the_readme_layout_match_the_tree():
    document = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    packages = sorted(p.name for p in (ROOT / "lib").iterdir() if (p / "__init__.py").exists())
    for package in [*packages, "charts.py"]:
        assert f"lib/{package}" in document, f"docs/architecture.md does not place lib/{package}"
        assert f"lib/{package}" in layout, f"the README's layout does not list lib/{package}"
    missing = sorted(p for p in _named_paths(document) if not _exists(p))
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_document_check_would_catch_a_path_that_went_away():
    assert _exists("lib/ui/errors.refusals_shown") and _exists("lib/ui/session") and _exists("docs")
    assert not _exists("lib/ui/errors.gone_away") and not _exists("lib/ui/nothing")
    assert _named_paths("`lib/store/db.py`, `lib/gone/away.py` and `tests/helpers.py`.") == {
        "lib/store/db.py",
        "lib/gone/away.py",
        "tests/helpers.py",
    }
