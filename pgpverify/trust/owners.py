"""Project ownership records (``pgp/projects/<name>.json``, see index-layout.md).

A record says which primary key fingerprints may sign a project's files, and for whom.
Known fields are type-checked (a wrong type is an :class:`OwnersError`, not a silent
skip); unknown fields are ignored so the format can grow.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NewType

from packaging.utils import canonicalize_name

from pgpverify.errors import OwnersError
from pgpverify.isotime import format_utc, parse_iso8601
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.textsafe import first_unsafe, terminal_safe

if TYPE_CHECKING:
    from pathlib import Path

    from pgpverify.policy import SignerJudgement

__all__ = [
    "ROLES",
    "Fingerprint",
    "Maintainer",
    "OwnershipRecord",
    "parse_fingerprint",
    "parse_retired",
]

#: PyPI's roles; both may sign.
ROLES = frozenset({"Owner", "Maintainer"})

#: 40 upper-case hex digits, checked.
Fingerprint = NewType("Fingerprint", str)

_V4_FPR = re.compile(r"[0-9A-Fa-f]{40}", re.ASCII)


def parse_fingerprint(text: str, *, source: str | None = None) -> Fingerprint:
    """Normalise a v4 fingerprint (case-insensitive, spaces allowed) to upper-case hex."""
    value = text.replace(" ", "")
    if not _V4_FPR.fullmatch(value):
        raise OwnersError(f"not a v4 key fingerprint (40 hex digits): {text!r}", source=source)
    return Fingerprint(value.upper())


@dataclass(frozen=True, slots=True)
class Maintainer:
    """One user of a project with a role and the primary fingerprints of their keys.

    ``retired`` maps some of ``keys`` to the time (seconds since the epoch, UTC) from which
    that key no longer signs for this project: a maintainer who lost a key, and cannot
    revoke it, retires it here; signatures it made before then still count.
    """

    user: str
    role: str
    keys: tuple[Fingerprint, ...]
    retired: tuple[tuple[Fingerprint, int], ...] = ()

    def retired_at(self, fingerprint: str) -> int | None:
        """When ``fingerprint`` was retired for this project, or None.

        A key retired twice (listed twice with two dates) is retired at the earlier date.
        The epoch (``1970-01-01``, 0) and earlier dates are dates like any other.
        """
        fpr = fingerprint.upper()
        return min((when for key, when in self.retired if key == fpr), default=None)


@dataclass(frozen=True, slots=True)
class OwnershipRecord:
    """Who may sign a project's files."""

    project: str
    maintainers: tuple[Maintainer, ...]

    @property
    def normalized_project(self) -> str:
        """The project name after PEP 503 normalisation."""
        return canonicalize_name(self.project)

    def is_for(self, project: str) -> bool:
        """Whether this record is about ``project`` (names compared after PEP 503)."""
        return canonicalize_name(project) == self.normalized_project

    def retired_at(self, primary_fingerprint: str) -> int | None:
        """The earliest retirement of this fingerprint by any maintainer, or None.

        A key listed plainly by one maintainer and retired by another is retired. A
        retirement at the epoch (0) is a retirement: only None means "not retired".
        """
        times = [
            t for m in self.maintainers if (t := m.retired_at(primary_fingerprint)) is not None
        ]
        return min(times, default=None)

    def signer(self, primary_fingerprint: str) -> Maintainer | None:
        """The Owner or Maintainer who listed this primary fingerprint, if any."""
        fpr = primary_fingerprint.upper()
        for maintainer in self.maintainers:
            if maintainer.role in ROLES and fpr in maintainer.keys:
                return maintainer
        return None

    def judge_signer(self, project: str, primary_fingerprint: str, signed: int) -> SignerJudgement:
        """The :class:`pgpverify.policy.SignerPolicy` of this record.

        A key may sign ``project`` if this record is about ``project``, the key is listed
        for an Owner or Maintainer, and ``signed`` is before any retirement of the key.
        """
        from pgpverify.policy import SignerJudgement

        if not self.is_for(project):
            return SignerJudgement(
                refusal=(f"the ownership record is for project {self.project!r}, not {project!r}")
            )
        maintainer = self.signer(primary_fingerprint)
        if maintainer is None:
            return SignerJudgement(
                refusal=(
                    f"key {primary_fingerprint} is not listed for an Owner or Maintainer of "
                    f"{self.project}"
                )
            )
        retired = self.retired_at(primary_fingerprint)
        if retired is not None and signed >= retired:
            return SignerJudgement(
                refusal=(
                    f"key {primary_fingerprint} of {maintainer.user} was retired for "
                    f"{self.project} at {format_utc(retired)}; this signature was made after that"
                )
            )
        return SignerJudgement(maintainer=maintainer)

    @classmethod
    def from_file(cls, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> OwnershipRecord:
        """Read and check a record file (size-bounded)."""
        from pgpverify.io import read_bounded

        data = read_bounded(path, limits.owners_bytes, "ownership record")
        return cls.from_bytes(data, source=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str | None = None) -> OwnershipRecord:
        """Parse a record from JSON bytes (UTF-8)."""
        try:
            doc = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise OwnersError("ownership record is not UTF-8", source=source) from None
        except json.JSONDecodeError as err:
            raise OwnersError(
                f"ownership record is not valid JSON: {err.msg} at line {err.lineno} "
                f"column {err.colno}",
                source=source,
            ) from None
        except ValueError as err:  # e.g. an integer literal over sys.get_int_max_str_digits()
            raise OwnersError(
                f"ownership record is not usable JSON: {err}", source=source
            ) from None
        except RecursionError:
            raise OwnersError("ownership record nests too deeply", source=source) from None
        return cls.from_json(doc, source=source)

    @classmethod
    def from_json(cls, doc: Any, *, source: str | None = None) -> OwnershipRecord:
        """Build a record from decoded JSON, checking every known field's type."""
        if not isinstance(doc, dict):
            raise OwnersError("ownership record must be a JSON object", source=source)
        project = _field(doc, "project", str, "ownership record", source)
        if not project.strip():
            raise OwnersError("'project' is empty", source=source)
        entries = _field(doc, "maintainers", list, "ownership record", source)
        maintainers = []
        for i, entry in enumerate(entries):
            where = f"maintainers[{i}]"
            if not isinstance(entry, dict):
                raise OwnersError(f"{where} must be an object", source=source)
            user = _field(entry, "user", str, where, source)
            role = _field(entry, "role", str, where, source)
            keys = _field(entry, "keys", list, where, source)
            fprs: list[Fingerprint] = []
            retired: list[tuple[Fingerprint, int]] = []
            for j, key in enumerate(keys):
                if isinstance(key, str):
                    fprs.append(parse_fingerprint(key, source=source))
                    continue
                if not isinstance(key, dict):
                    raise OwnersError(
                        f"{where}.keys[{j}] must be a fingerprint or an object", source=source
                    )
                fpr = parse_fingerprint(
                    _field(key, "fingerprint", str, f"{where}.keys[{j}]", source), source=source
                )
                fprs.append(fpr)
                if "retired" in key:
                    text = _field(key, "retired", str, f"{where}.keys[{j}]", source)
                    retired.append((fpr, parse_retired(text, source=source)))
            maintainers.append(
                Maintainer(user=user, role=role, keys=tuple(fprs), retired=tuple(retired))
            )
        return cls(project=project, maintainers=tuple(maintainers))


def parse_retired(text: str, *, source: str | None = None) -> int:
    """A retirement date (``2024-05-01``, midnight UTC) or ISO 8601 time, as epoch seconds."""
    try:
        when = parse_iso8601(text)
    except ValueError:
        raise OwnersError(
            f"'retired' is not an ISO 8601 date: {text!r} (e.g. 2024-05-01)", source=source
        ) from None
    try:
        seconds = int(when.timestamp())
        # it must also convert back, for messages (year 1 and year 9999 sit at the edges)
        format_utc(seconds)
    except (OverflowError, ValueError, OSError):
        raise OwnersError(f"'retired' is out of range: {text!r}", source=source) from None
    return seconds


def _field(doc: dict[str, Any], name: str, kind: type, where: str, source: str | None) -> Any:
    if name not in doc:
        raise OwnersError(f"{where} lacks the field '{name}'", source=source)
    value = doc[name]
    if not isinstance(value, kind):
        raise OwnersError(
            f"{where}: '{name}' must be a {_JSON_TYPES.get(kind, kind.__name__)}", source=source
        )
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
            raise OwnersError(f"{where}: '{name}' is not valid Unicode", source=source) from None
        bad = first_unsafe(value)
        if bad is not None:
            what = _UNSAFE_KINDS.get(unicodedata.category(bad), "control characters")
            raise OwnersError(f"{where}: '{name}' has {what} ({terminal_safe(bad)})", source=source)
    return value


#: How a refused character is named (C0, DEL and C1 are "Cc").
_UNSAFE_KINDS = {
    "Cc": "control characters",
    "Cf": "a bidi or invisible format character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}


_JSON_TYPES: dict[type, str] = {str: "string", list: "list", dict: "object"}
