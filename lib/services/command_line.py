"""How the portal's command-line tools (and the server's start) end: done, or refused in French."""

from __future__ import annotations

import sys
from collections.abc import Callable

from lib.domain.errors import PortailError


def run_in_french(work: Callable[[], None]) -> int:
    """Run a tool's work: 0 once done; 1 with « Erreur : … » on stderr when it was refused (a
    PortailError carries the French message; nothing else is caught)."""
    try:
        work()
    except PortailError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr, flush=True)
        return 1
    return 0
