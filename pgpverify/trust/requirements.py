"""Project names from pip requirements files (for ``pgpverify lock -r``).

Only names matter here. Lines pip understands but that name no index project (``-e``,
URLs, local paths, options) are reported, not fatal; nested ``-r``/``-c`` files are
followed, relative to the file that names them, with a depth and size bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pgpverify.io import read_requirements_file
from pgpverify.limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from pathlib import Path

    from pgpverify.limits import Limits

__all__ = ["read_requirements"]

_NESTED = ("-r", "--requirement", "-c", "--constraint")


def read_requirements(
    path: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    _depth: int = 0,
    _seen: set[str] | None = None,
) -> tuple[list[str], list[str]]:
    """(normalized project names in order, problems as one-line messages).

    Each file is read once (a file included twice, or in a cycle, is skipped the second
    time), at most ``limits.requirements_files`` files of ``limits.requirements_bytes``
    each, ``limits.requirements_depth`` levels deep.
    """
    seen = set() if _seen is None else _seen
    data = read_requirements_file(path, seen, _depth, limits)
    if data is None:
        return [], []
    text = data.decode("utf-8", errors="replace")
    names: list[str] = []
    problems: list[str] = []
    # pip joins lines ending in a backslash before anything else.
    logical = text.replace("\\\r\n", " ").replace("\\\n", " ")
    for number, raw in enumerate(logical.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        if line.startswith("-"):
            option, _, value = line.partition(" ")
            if "=" in option:
                option, _, value = line.partition("=")
            if option in _NESTED and value.strip():
                nested = path.parent / value.strip()
                found, more = read_requirements(
                    nested, limits=limits, _depth=_depth + 1, _seen=seen
                )
                names += found
                problems += more
            elif option in ("-e", "--editable"):
                problems.append(f"{where}: editable requirement skipped: {line}")
            continue
        spec = line.split(" --", 1)[0].strip()  # per-requirement options (--hash=...)
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            problems.append(f"{where}: not a project requirement, skipped: {line}")
            continue
        if req.url:
            problems.append(f"{where}: direct URL requirement skipped: {req.name}")
            continue
        names.append(str(canonicalize_name(req.name)))
    return names, problems
