"""axe-core (carried by the axe-playwright-python package) run on every frame of a page:
Streamlit's document and the frames of its components (the calendar is an iframe)."""

from __future__ import annotations

import json

from axe_playwright_python.sync_playwright import Axe

_SCRIPT = Axe().axe_script
_BLOCKING = {"serious", "critical"}


def audit(page) -> list[dict]:
    """Every violation found by axe in the page and its frames: {frame, id, impact, help, nodes}."""
    found = []
    for frame in page.frames:
        if frame.is_detached() or (frame.url in ("about:blank", "about:srcdoc") and frame != page.main_frame):
            continue
        frame.evaluate(_SCRIPT)
        result = frame.evaluate("async () => await axe.run(document, {resultTypes: ['violations'], iframes: false})")
        for violation in result["violations"]:
            found.append(
                {
                    "frame": "page" if frame == page.main_frame else frame.url.split("?")[0],
                    "id": violation["id"],
                    "impact": violation["impact"],
                    "help": violation["help"],
                    "nodes": [
                        (" ".join(map(str, n["target"])), n.get("failureSummary", "")[:300]) for n in violation["nodes"]
                    ][:8],
                }
            )
    return found


def blocking(violations: list[dict], known: dict[str, str]) -> list[dict]:
    """Violations of impact serious or critical that are not listed in `known` (rule id → why)."""
    return [v for v in violations if v["impact"] in _BLOCKING and v["id"] not in known]


def describe(violations: list[dict]) -> str:
    return json.dumps(violations, ensure_ascii=False, indent=1)
