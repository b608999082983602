"""A test module imports shared helpers from tests/helpers.py (tests/browser/helpers.py for the
browser's), tests/serve.py, tests/payment_providers.py (each payment backend's answers), tests/engines.py (the
session's engine and its PostgreSQL databases), tests/browser/axe.py or a conftest.py, never from another test module:
a helper then lives where the next test looks for it, and running one module never runs another's
imports."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED = {
    "tests.helpers",
    "tests.serve",
    "tests.payment_providers",
    "tests.engines",
    "tests.browser.axe",
    "tests.browser.helpers",
}


def _imported(source: str, root: Path) -> set[str]:
    """The `tests.…` modules a source imports, at its top or inside a function (`from tests.pages
    import test_pages` imports the module tests.pages.test_pages)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if (root.parent / node.module.replace(".", "/")).is_dir():
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("tests.")}


def _allowed(module: str) -> bool:
    return module in SHARED or module.rsplit(".", 1)[-1] == "conftest"


def cross_imports(root: Path = TESTS) -> list[str]:
    """`file: module` for each import of a test module by another test file under `root`."""
    return sorted(
        f"{path.relative_to(root.parent)}: {module}"
        for path in root.rglob("*.py")
        for module in _imported(path.read_text(encoding="utf-8"), root)
        if not _allowed(module)
    )


def test_no_test_module_imports_another():
    assert cross_imports() == []


def test_the_check_finds_a_planted_import(tmp_path):
    tests = tmp_path / "tests"
    (tests / "pages").mkdir(parents=True)
    (tests / "pages" / "test_pages.py").write_text("def app_test(): ...\n")
    (tests / "pages" / "test_more.py").write_text(
        "from tests.conftest import DEMO_NOW\nfrom tests.helpers import texts\nfrom tests.browser.helpers import check\n"
        "from tests.serve import ROOT\nfrom tests.browser.axe import audit\nfrom tests.browser.conftest import login\n"
    )
    assert cross_imports(tests) == []
    (tests / "web").mkdir()
    (tests / "web" / "test_routes.py").write_text(
        "import tests.pages.test_pages\n\ndef test_x():\n    from tests.pages.test_pages import app_test\n"
    )
    (tests / "web" / "test_other.py").write_text("from tests.pages import test_pages\n")
    assert cross_imports(tests) == [
        "tests/web/test_other.py: tests.pages.test_pages",
        "tests/web/test_routes.py: tests.pages.test_pages",
    ]
