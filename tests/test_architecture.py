"""The layers of ../shared/docs/architecture.md hold: a page that reaches for SQL fails here."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "app.py", ROOT / "server.py", *sorted((ROOT / "pages").glob("*.py"))]
FORBIDDEN_IN_SCRIPTS = ("duckdb", "lib.store")


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
    bad.write_text("import duckdb\nfrom lib.store.db import open_database\nfrom lib.services import home\n")
    assert offending(imported_modules(bad)) == {"duckdb", "lib.store.db", "lib.store.db.open_database"}


LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def test_import_linter_contracts_hold():
    result = subprocess.run(
        [LINT_IMPORTS, "--config", ".importlinter", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 kept, 0 broken" in result.stdout


def test_import_linter_catches_a_domain_module_importing_streamlit(tmp_path):
    # The same contracts, run on a copy of lib/ with one bad import added, must fail.
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "lib", copy / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    (copy / "lib" / "domain" / "leak.py").write_text("import streamlit\n")
    result = subprocess.run(
        [LINT_IMPORTS, "--config", ".importlinter", "--no-cache"], cwd=copy, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "lib.domain.leak -> streamlit" in result.stdout
