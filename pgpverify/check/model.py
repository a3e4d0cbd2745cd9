"""The typed results of ``check``: one :class:`FileCheck` per file, one :class:`CheckReport`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DISTRIBUTION_SUFFIXES", "CheckReport", "FileCheck", "Status"]

#: what a directory (a wheelhouse) is read for, and what the install gate serves
DISTRIBUTION_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz")

EXIT_GOOD = 0
EXIT_REJECTED = 1
EXIT_ERROR = 2


class Status(enum.Enum):
    """A file's standing under the chosen policy; the value is the JSON spelling."""

    GOOD = "good"
    UNSIGNED = "unsigned"
    REJECTED = "rejected"
    #: the file could not be checked (network, a page that does not parse, a read error)
    ERROR = "error"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileCheck:
    """The verdict on one distribution file.

    ``reason`` is ``good``, ``unsigned``, one of ``verify``'s reasons, or a check-only one:
    ``hash-mismatch``, ``not-on-index``, ``backsigned`` (rejected under
    ``--reject-backsigned``), ``signature-missing`` (the index promised a signature it does
    not serve), ``keys-changed`` (the project's trust statement widened, under
    ``--fail-on-key-change``) or ``error``. ``backsigned`` is None when the upload time is unknown.
    """

    file: str
    status: Status
    reason: str
    message: str
    project: str | None = None
    version: str | None = None
    sha256: str | None = None
    signer_fingerprint: str | None = None
    primary_fingerprint: str | None = None
    maintainer: str | None = None
    role: str | None = None
    #: where the signature came from (a URL on the index, or a path in --signatures-dir)
    signature: str | None = None
    upload_time: str | None = None
    signed_at: str | None = None
    backsigned: bool | None = None
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether the file passes the policy (good, or unsigned where that is allowed)."""
        return self.status in (Status.GOOD, Status.UNSIGNED)

    def to_json(self) -> dict[str, Any]:
        """The object for ``--format json``'s ``files`` list."""
        return {
            "file": self.file,
            "project": self.project,
            "version": self.version,
            "sha256": self.sha256,
            "status": self.status.value,
            "reason": self.reason,
            "message": self.message,
            "signer_fingerprint": self.signer_fingerprint,
            "primary_fingerprint": self.primary_fingerprint,
            "maintainer": self.maintainer,
            "role": self.role,
            "signature": self.signature,
            "signed_at": self.signed_at,
            "upload_time": self.upload_time,
            "backsigned": self.backsigned,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every file's verdict, in the order the files were given (then by name in a directory)."""

    files: tuple[FileCheck, ...]
    #: run-wide notes (a project whose trust statement changed, a missing key file)
    warnings: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every file passes (an empty set passes)."""
        return all(f.passed for f in self.files)

    @property
    def totals(self) -> dict[str, int]:
        """How many files have each status."""
        counts = {status.value: 0 for status in Status}
        for item in self.files:
            counts[item.status.value] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """2 when a file could not be checked, else 1 when one is rejected, else 0."""
        if any(f.status is Status.ERROR for f in self.files):
            return EXIT_ERROR
        return EXIT_GOOD if self.ok else EXIT_REJECTED

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` document."""
        return {
            "ok": self.ok,
            "files": [f.to_json() for f in self.files],
            "totals": self.totals,
            "warnings": list(self.warnings),
        }
