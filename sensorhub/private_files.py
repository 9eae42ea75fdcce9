"""Files that hold secrets or health data: created for their owner only, whatever the umask.

The hub config (it may hold a database password) and the SQLite database (wearers' health
data) are created with mode 0600, and the folders sensorhub creates for them with 0700.
Files and folders that already exist are never chmod-ed behind the user's back: a file that
other users may read or change is reported with a warning that says how to make it private.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Final

__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "create_private_file",
    "make_private_dirs",
    "warn_if_exposed",
    "write_private_text",
]

_LOGGER = logging.getLogger(__name__)

#: Mode of the files sensorhub creates: read and write for the owner only.
PRIVATE_FILE_MODE: Final = 0o600
#: Mode of the folders sensorhub creates for them.
PRIVATE_DIR_MODE: Final = 0o700


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each with mode 0700.

    Folders that already exist keep their mode.

    Parameters
    ----------
    folder
        The folder to make sure of.
    """
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs to set
        path.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask; this is not


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 (missing folders 0700), unless it exists.

    Parameters
    ----------
    path
        The file to create.

    Returns
    -------
    bool
        True if this call created the file, False if it existed already (left untouched).
    """
    make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.chmod(fd if os.chmod in os.supports_fd else path, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return True


def warn_if_exposed(path: Path, holds: str, chmod_target: str | None = None) -> bool:
    """Warn when other users may read or change ``path`` (group or world permission bits).

    Parameters
    ----------
    path
        The file to check; a missing file (or a folder) is not reported.
    holds
        What the file holds, for the message ("a database password", ...).
    chmod_target
        What the suggested ``chmod 600`` should name (default: ``path``).

    Returns
    -------
    bool
        True if a warning was logged.
    """
    try:
        status = path.stat()
    except OSError:
        return False
    mode = stat.S_IMODE(status.st_mode)
    if not stat.S_ISREG(status.st_mode) or not mode & 0o077:
        return False
    _LOGGER.warning(
        "%s is open to other users (mode %04o) and may hold %s: make it private with "
        "`chmod 600 %s`",
        path,
        mode,
        holds,
        chmod_target or path,
    )
    return True


def write_private_text(path: Path, text: str, *, holds: str) -> None:
    """Write ``text`` to ``path``: created 0600 when new; an existing file keeps its mode.

    Parameters
    ----------
    path
        The file to write (replaced as a whole).
    text
        Its new content (UTF-8).
    holds
        What the file may hold, for the warning about an existing file that other users may
        read (see :func:`warn_if_exposed`).
    """
    if not create_private_file(path):
        warn_if_exposed(path, holds)
    path.write_text(text, encoding="utf-8")
