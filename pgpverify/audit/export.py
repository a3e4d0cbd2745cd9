r"""``audit export-signatures``: the archived ``.asc`` files written back out.

Each goes to ``DIR/<normalised project>/<file name>.asc``. File names come from the index
and are hostile: a name is used only if it is one plain path component that every OS
takes (no ``/`` or ``\\``, no ``..``, no drive or stream ``:``, no control characters, no
bidi or other invisible format characters, no trailing dot or space, not a Windows reserved
device name such as ``CON`` or ``nul.txt``, at most 250 bytes, and not the name of another
file of the project once case and Unicode normalisation are folded, as macOS and Windows
fold them); anything else is refused and listed, never written elsewhere. Files are
written atomically (a temporary file, then ``os.replace``), never through a symbolic link.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pgpverify.errors import InputError
from pgpverify.io import atomic_write, read_bounded

if TYPE_CHECKING:
    from pathlib import Path

    from pgpverify.audit.store import AuditStore

__all__ = ["ExportSummary", "export_signatures", "safe_component"]

_RESERVED = re.compile(
    r"(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?", re.IGNORECASE
)
_PROJECT = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)
_MAX_NAME = 250
#: format characters (bidi overrides and isolates, zero-width ones) and line separators:
#: a name with them can show as another name
_DISGUISE = frozenset(("Cf", "Zl", "Zp"))


def _fold(name: str) -> str:
    """The name as a case-insensitive, normalising file system (macOS, Windows) sees it."""
    return unicodedata.normalize("NFC", name).casefold()


def safe_component(name: str) -> str | None:
    """Why ``name`` cannot be one file name on every OS, or None when it can."""
    if not name or name in (".", ".."):
        return "empty, '.' or '..'"
    if any(c in name for c in '/\\:*?"<>|'):
        return "a path separator, drive or reserved character"
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in name):
        return "control characters"
    if any(unicodedata.category(c) in _DISGUISE for c in name):
        return "bidi, invisible format characters or line separators"
    if name[-1] in ". " or name[0] == " ":
        return "a leading space, or a trailing dot or space"
    if _RESERVED.fullmatch(name):
        return "a reserved device name on Windows"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "not valid Unicode"
    if size > _MAX_NAME:
        return f"longer than {_MAX_NAME} bytes"
    return None


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What was written, and what was refused (with why)."""

    written: int
    unchanged: int
    refused: tuple[str, ...]


def _write(directory: Path, name: str, data: bytes) -> bool:
    """Write atomically (:func:`pgpverify.io.atomic_write`); False when already there.

    An existing file is read only when its size is the signature's, so a large file of
    the same name costs a ``stat``, not a read.
    """
    target = directory / name
    if target.is_symlink():
        raise InputError("is a symbolic link: not written through", source=str(target))
    if (
        target.is_file()
        and target.stat().st_size == len(data)
        and read_bounded(target, len(data), "exported signature") == data
    ):
        return False
    atomic_write(target, data)
    return True


def export_signatures(store: AuditStore, directory: Path) -> ExportSummary:
    """Write every archived ``.asc`` under ``directory`` (created if needed)."""
    written = unchanged = 0
    refused: list[str] = []
    #: folded names already written in the current project (rows come by project)
    taken: tuple[str, set[str]] = ("", set())
    try:
        directory.mkdir(parents=True, exist_ok=True)
        root = directory.resolve(strict=True)
        for row in store.files():
            if row.asc_digest is None:
                continue
            name = row.filename + ".asc"
            why = safe_component(row.filename) or safe_component(name)
            if why is None and not _PROJECT.fullmatch(row.project):
                why = "the project name is not normalised"
            if taken[0] != row.project:
                taken = (row.project, set())
            if why is None and _fold(name) in taken[1]:
                why = (
                    "the same name as another file's on a case-insensitive or "
                    "normalising file system"
                )
            if why is not None:
                refused.append(f"{row.project!r}/{row.filename!r}: {why}")
                continue
            taken[1].add(_fold(name))
            folder = root / row.project
            if folder.is_symlink():
                refused.append(f"{row.project}: the folder is a symbolic link")
                continue
            folder.mkdir(exist_ok=True)
            if _write(folder, name, store.blob(row.asc_digest)):
                written += 1
            else:
                unchanged += 1
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror or err}", source=str(directory)) from None
    return ExportSummary(written=written, unchanged=unchanged, refused=tuple(refused))
