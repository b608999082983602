"""Secrets kept in files beside the database (the online backup's token, the SMTP password):
read only when the file is the server's account's own and nobody else may read it."""

from __future__ import annotations

import os
from pathlib import Path

from lib.domain.errors import NotAllowed


def read_private_file(path: Path, described: str, refused: str) -> str:
    """The file's content, stripped; NotAllowed (French: `described` names the file, `refused` says
    what is refused) unless it belongs to this process's user and is readable by it alone (0600).
    The message names no path: a route may show it to whoever asks."""
    info = path.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise NotAllowed(
            f"{described} doit appartenir au compte du serveur et n'être lisible que par lui (chmod 600) : {refused}."
        )
    return path.read_text(encoding="utf-8").strip()
