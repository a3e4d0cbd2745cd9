"""Lock files: projects' ownership and certificates pinned for offline, reviewed use.

``pgpverify lock`` writes one TOML file (``pgpverify.lock``) that pins, per project, who may
sign (user, role, primary fingerprints, retired keys) and the armored certificate of every
listed key; ``pgpverify verify --lock`` then needs no network. Like Gradle's verification
metadata and Maven's keysmap, the file is meant to be committed and reviewed: the emitter
writes one fingerprint per line, sorted, so that a change of signer is a one-line diff.
A project may also carry a reviewed exception (``unsigned = "allowed"``) and a reviewer's
``note``, which :func:`build_lock` carries over when the file is written again.

Threat model: the lock file is trusted the way the code it sits beside is (it is reviewed
and committed), but what it says must be consistent, so :func:`loads` checks at load time
that every certificate parses as exactly one certificate whose primary fingerprint is its
table key, that every fingerprint a maintainer lists has its certificate, and that every
certificate is listed by some maintainer (a key no reviewer would see as a signer has no
business in the file). An edited fingerprint, a swapped or corrupted certificate therefore
makes the whole file a :class:`~pgpverify.errors.LockFileError`, never a silently weaker
keyring.

Format (schema version 1)::

    version = 1
    index_url = "https://pypi.example/simple/"

    [projects."demo-pkg"]
    unsigned = "allowed"                  # optional: the only accepted value
    note = "reviewed by ... in #123"      # optional

    [[projects."demo-pkg".maintainers]]
    user = "alice"
    role = "Owner"
    keys = [
        "DBB45D692413FC66E3CB87089B617AE7AD1F8C84",
        { fingerprint = "11B5...844B", retired = "2024-05-01T00:00:00Z" },
    ]

    [certificates]
    "DBB45D692413FC66E3CB87089B617AE7AD1F8C84" = '''
    -----BEGIN PGP PUBLIC KEY BLOCK-----
    ...
    -----END PGP PUBLIC KEY BLOCK-----
    '''

Unknown fields are ignored when reading (and not written back). A lock file is read with
a size cap, :attr:`pgpverify.limits.Limits.lock_bytes` (16 MiB); its certificates are
then held to the same ``limits``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from pgpverify.errors import InputError, LimitExceededError, LockFileError, PgpVerifyError
from pgpverify.io import BINARY, atomic_write, binary_blocks, read_bounded
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.armor import decode_blocks, encode
from pgpverify.openpgp.keyring import Keyring
from pgpverify.openpgp.packets import iter_packets
from pgpverify.textsafe import first_unsafe, terminal_safe
from pgpverify.trust.memory import ChangeKind, TrustStatement, compare, union_certificate
from pgpverify.trust.owners import (
    Fingerprint,
    Maintainer,
    OwnershipRecord,
    parse_fingerprint,
    parse_retired,
)
from pgpverify.urls import redact_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from pgpverify.policy import SignerJudgement

__all__ = [
    "LOCK_VERSION",
    "MAX_LOCK_BYTES",
    "UNSIGNED_VALUES",
    "LockChange",
    "LockFile",
    "LockedProject",
    "build_lock",
    "dumps",
    "loads",
    "lock_changes",
    "write_lock",
]

#: The schema version this module reads and writes.
LOCK_VERSION = 1

#: Largest lock file read by default (:attr:`Limits.lock_bytes`): a thousand projects with
#: a few keys each fit many times over.
MAX_LOCK_BYTES = DEFAULT_LIMITS.lock_bytes

#: Accepted values of a project's ``unsigned`` exception.
UNSIGNED_VALUES = frozenset({"allowed"})

_KEY_LABEL = "PUBLIC KEY BLOCK"
_NORMALIZED = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)

_HEADER = """\
# pgpverify lock file: who may sign each project, and their OpenPGP certificates.
# Written by `pgpverify lock`; read by `pgpverify verify --lock` (no network needed).
# Commit it and review every change like code: a new or changed fingerprint is a new
# signer. Certificates must match their fingerprints; an edited file that does not is
# rejected as a whole.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedProject:
    """One project's pinned ownership, and any reviewed exception.

    ``name`` is PEP 503-normalized; ``unsigned`` is ``"allowed"`` or None; ``note`` is a
    reviewer's free-text comment, kept across re-locks.
    """

    name: str
    maintainers: tuple[Maintainer, ...] = ()
    unsigned: str | None = None
    note: str | None = None

    def fingerprints(self) -> list[Fingerprint]:
        """Every primary fingerprint the project's maintainers list, sorted, once each."""
        return sorted({fpr for m in self.maintainers for fpr in m.keys})


@dataclass(frozen=True, slots=True, kw_only=True)
class LockFile:
    """A parsed lock file: projects by normalized name, certificates by primary fingerprint.

    ``certificates`` values are armored transferable public keys (canonical armor, as
    :func:`pgpverify.openpgp.armor.encode` writes it).
    """

    version: int = LOCK_VERSION
    index_url: str | None = None
    projects: dict[str, LockedProject] = field(default_factory=dict)
    certificates: dict[str, bytes] = field(default_factory=dict)

    def project(self, name: str) -> LockedProject | None:
        """The pinned project (``name`` compared after PEP 503 normalization), or None."""
        return self.projects.get(canonicalize_name(name))

    def ownership(self, name: str) -> OwnershipRecord | None:
        """The pinned ownership record of a project, or None when the lock has none."""
        locked = self.project(name)
        if locked is None:
            return None
        return OwnershipRecord(project=locked.name, maintainers=locked.maintainers)

    def judge_signer(self, project: str, primary_fingerprint: str, signed: int) -> SignerJudgement:
        """The :class:`pgpverify.policy.SignerPolicy` of this lock file.

        The pinned ownership record of ``project`` decides (see
        :meth:`OwnershipRecord.judge_signer`); a project the lock does not pin has no
        signer.
        """
        owners = self.ownership(project)
        if owners is None:
            from pgpverify.policy import SignerJudgement

            return SignerJudgement(refusal=f"the lock file pins nothing for project {project}")
        return owners.judge_signer(project, primary_fingerprint, signed)

    def keyring_for(self, name: str, *, limits: Limits = DEFAULT_LIMITS) -> Keyring:
        """A keyring of only the certificates this project's maintainers list.

        Empty when the project is not pinned. A fingerprint without a certificate cannot
        occur in a lock file that :func:`loads` accepted.
        """
        ring = Keyring(limits=limits)
        locked = self.project(name)
        if locked is None:
            return ring
        for fpr in locked.fingerprints():
            data = self.certificates.get(fpr)
            if data is not None:
                ring.add_bytes(data, source=f"lock file certificate {fpr}")
        return ring

    @classmethod
    def read(cls, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> LockFile:
        """Read and check a lock file (at most ``limits.lock_bytes``, UTF-8).

        A regular file or a pipe (:func:`pgpverify.io.read_bounded`): a device, a socket,
        a directory, a missing file or a path with a NUL byte is a LockFileError.
        """
        source = str(path)
        try:
            data = read_bounded(path, limits.lock_bytes, "lock file")
        except LimitExceededError:
            raise LockFileError(
                f"lock file is larger than {limits.lock_bytes} bytes", source=source
            ) from None
        except InputError as err:
            raise LockFileError(err.message, source=source) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise LockFileError(
                f"lock file is not UTF-8 (byte {err.start})", source=source
            ) from None
        return loads(text, source=source, limits=limits)


# --------------------------------------------------------------------------- reading


def loads(text: str, *, source: str | None = None, limits: Limits = DEFAULT_LIMITS) -> LockFile:
    """Parse and check a lock file's text; every problem is a :class:`LockFileError`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise LockFileError(
            f"lock file is not valid TOML: {_one_line(str(err))}", source=source
        ) from None
    except RecursionError:
        raise LockFileError("lock file nests too deeply", source=source) from None
    return _from_doc(doc, source=source, limits=limits)


def _from_doc(doc: dict[str, Any], *, source: str | None, limits: Limits) -> LockFile:
    if "version" not in doc:
        raise LockFileError("lock file lacks 'version'", source=source)
    version = doc["version"]
    if not _is_int(version):
        raise LockFileError("'version' must be an integer", source=source)
    if version != LOCK_VERSION:
        raise LockFileError(
            f"unsupported lock file version {version} (this pgpverify reads {LOCK_VERSION})",
            source=source,
        )
    index_url = _optional(doc, "index_url", str, "lock file", source)
    projects_doc = _optional(doc, "projects", dict, "lock file", source) or {}
    certs_doc = _optional(doc, "certificates", dict, "lock file", source) or {}

    certificates: dict[str, bytes] = {}
    for key, value in certs_doc.items():
        fpr = _fingerprint(key, f"certificates.{_quote(key)}", source)
        if fpr in certificates:
            raise LockFileError(f"certificate {fpr} is listed twice", source=source)
        if not isinstance(value, str):
            raise LockFileError(f"certificate {fpr} must be a string (armored key)", source=source)
        certificates[fpr] = _check_certificate(
            value.encode("utf-8"),
            fpr,
            limits=limits,
            source=source,
            what=f"certificate listed as {fpr}",
        )

    projects: dict[str, LockedProject] = {}
    for name, entry in projects_doc.items():
        projects[name] = _project(name, entry, source)

    _check_references(projects, certificates, source)
    return LockFile(
        version=version, index_url=index_url, projects=projects, certificates=certificates
    )


def _project(name: str, entry: Any, source: str | None) -> LockedProject:
    where = f"projects.{_quote(name)}"
    if not _is_normalized(name):
        raise LockFileError(
            f"project {_quote(name)} is not a normalized name (write "
            f"{_quote(canonicalize_name(name))})",
            source=source,
        )
    if not isinstance(entry, dict):
        raise LockFileError(f"{where} must be a table", source=source)
    unsigned = _optional(entry, "unsigned", str, where, source)
    if unsigned is not None and unsigned not in UNSIGNED_VALUES:
        raise LockFileError(
            f"{where}: unsigned = {_quote(unsigned)} is not understood (the only value is "
            '"allowed")',
            source=source,
        )
    note = _optional(entry, "note", str, where, source)
    entries = _optional(entry, "maintainers", list, where, source) or []
    maintainers = tuple(
        _maintainer(item, f"{where}.maintainers[{i}]", source) for i, item in enumerate(entries)
    )
    return LockedProject(name=name, maintainers=maintainers, unsigned=unsigned, note=note)


def _maintainer(entry: Any, where: str, source: str | None) -> Maintainer:
    if not isinstance(entry, dict):
        raise LockFileError(f"{where} must be a table", source=source)
    user = _shown(_required(entry, "user", str, where, source), "user", where, source)
    role = _shown(_required(entry, "role", str, where, source), "role", where, source)
    keys = _required(entry, "keys", list, where, source)
    fprs: set[Fingerprint] = set()
    retired: dict[Fingerprint, int] = {}
    for j, key in enumerate(keys):
        here = f"{where}.keys[{j}]"
        if isinstance(key, str):
            fprs.add(_fingerprint(key, here, source))
            continue
        if not isinstance(key, dict):
            raise LockFileError(f"{here} must be a fingerprint or an inline table", source=source)
        fpr = _fingerprint(_required(key, "fingerprint", str, here, source), here, source)
        fprs.add(fpr)
        if "retired" in key:
            # A key retired twice is retired at the earlier date (0, the epoch, included).
            when = _retired(key["retired"], here, source)
            retired[fpr] = min(when, retired.get(fpr, when))
    return Maintainer(
        user=user, role=role, keys=tuple(sorted(fprs)), retired=tuple(sorted(retired.items()))
    )


def _shown(text: str, name: str, where: str, source: str | None) -> str:
    """``text`` if it has no character that could disguise it, as ownership records require.

    A control (C0, DEL, C1), bidi or other invisible format character or a line separator
    in a user or role is a LockFileError naming the field (the character shown escaped):
    a reviewer must see the name as a verifier prints it.
    """
    bad = first_unsafe(text)
    if bad is not None:
        raise LockFileError(
            f"{where}: '{name}' has a control, bidi or invisible format "
            f"character ({terminal_safe(bad)})",
            source=source,
        )
    return text


def _retired(value: Any, where: str, source: str | None) -> int:
    # TOML has native dates and times; a reviewer may write either them or a string.
    try:
        if isinstance(value, datetime):
            when = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
            seconds = int(when.timestamp())
        elif isinstance(value, date):
            seconds = int(
                datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
            )
        elif isinstance(value, str):
            seconds = parse_retired(value)
        else:
            raise LockFileError(f"{where}: 'retired' must be a date", source=source)
        _timestamp(seconds)  # it must be writable back
    except PgpVerifyError as err:
        raise LockFileError(f"{where}: {err.message}", source=source) from None
    except (ValueError, OverflowError, OSError):
        raise LockFileError(f"{where}: 'retired' is out of range: {value}", source=source) from None
    return seconds


def _check_references(
    projects: Mapping[str, LockedProject],
    certificates: Mapping[str, bytes],
    source: str | None,
) -> None:
    """Every listed fingerprint has a certificate; every certificate is listed."""
    listed: set[str] = set()
    for name in sorted(projects):
        for maintainer in projects[name].maintainers:
            for fpr in maintainer.keys:
                if fpr not in certificates:
                    raise LockFileError(
                        f"no certificate for {fpr} listed by {maintainer.user} in {name}",
                        source=source,
                    )
                listed.add(fpr)
    for cert_fpr in sorted(certificates):
        if cert_fpr not in listed:
            raise LockFileError(
                f"certificate {cert_fpr} is listed by no maintainer of any project (remove it)",
                source=source,
            )


def _check_certificate(
    data: bytes, fpr: str, *, limits: Limits, source: str | None, what: str
) -> bytes:
    """``data`` (armored or binary) as canonical armor, if it is exactly ``fpr``'s certificate.

    RFC 9580 §6 armor: one ``PUBLIC KEY BLOCK`` (CRC checked when present), then packet
    framing (§4) of one transferable public key (§10.1) whose primary fingerprint is
    ``fpr``, decoded structurally. Self-signatures are judged later, by the verifier, at a
    reference time (a damaged one is dropped there, as from any keyring).
    """
    try:
        blocks = binary_blocks(data)
    except PgpVerifyError as err:
        raise LockFileError(f"{what}: {err.message}", source=source) from None
    if len(blocks) != 1:
        raise LockFileError(f"{what}: {len(blocks)} armored blocks, expected one", source=source)
    block = blocks[0]
    if block.error is not None:
        raise LockFileError(f"{what}: {block.error}", source=source)
    if block.label not in (BINARY, _KEY_LABEL):
        raise LockFileError(f"{what}: a PGP {block.label} is not a public key", source=source)
    binary = block.data
    ring = Keyring(limits=limits)
    try:
        ring.add_bytes(binary, source=what)
    except PgpVerifyError as err:
        raise LockFileError(f"{what}: {err.message}", source=source) from None
    found = [f.hex().upper() for f in ring.fingerprints]
    if len(found) != 1:
        held = ", ".join(found) if found else "no usable certificate"
        raise LockFileError(f"{what} holds {held}, expected one certificate", source=source)
    if found[0] != fpr:
        raise LockFileError(f"{what} has primary fingerprint {found[0]}", source=source)
    if ring.certificate(ring.fingerprints[0]) is None or ring.warnings:
        problem = ring.warnings[0] if ring.warnings else "does not parse"
        raise LockFileError(f"{what}: {_one_line(problem)}", source=source)
    return encode(binary, _KEY_LABEL)


def _fingerprint(text: str, where: str, source: str | None) -> Fingerprint:
    try:
        return parse_fingerprint(text)
    except PgpVerifyError as err:
        raise LockFileError(f"{where}: {err.message}", source=source) from None


def _is_normalized(name: str) -> bool:
    return bool(_NORMALIZED.fullmatch(name)) and canonicalize_name(name) == name


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TOML_TYPES: dict[type, str] = {str: "a string", list: "an array", dict: "a table"}


def _required(doc: dict[str, Any], name: str, kind: type, where: str, source: str | None) -> Any:
    if name not in doc:
        raise LockFileError(f"{where} lacks '{name}'", source=source)
    return _optional(doc, name, kind, where, source)


def _optional(doc: dict[str, Any], name: str, kind: type, where: str, source: str | None) -> Any:
    value = doc.get(name)
    if value is not None and not isinstance(value, kind):
        raise LockFileError(f"{where}: '{name}' must be {_TOML_TYPES[kind]}", source=source)
    return value


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- writing

_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _quote(text: str) -> str:
    """``text`` as a TOML basic string (backslash, quote and control characters escaped)."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _timestamp(seconds: int) -> str:
    return format_utc(seconds)


def _armor_literal(fpr: str, data: bytes) -> str:
    """A certificate as a TOML multi-line literal string (no escapes, as it is armored)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError(f"certificate {fpr} is not ASCII armor") from None
    if "'''" in text or any((ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7F for c in text):
        raise ValueError(f"certificate {fpr} cannot be written as a TOML literal string")
    if not text.endswith("\n"):
        text += "\n"
    return f"{_quote(fpr)} = '''\n{text}'''\n"


def dumps(lock: LockFile) -> str:
    """The lock file's text: TOML, sorted, one fingerprint per line, LF line endings.

    Stable: ``dumps(loads(text)) == text`` for any text this function wrote.
    """
    out = [_HEADER, "\n", f"version = {lock.version}\n"]
    if lock.index_url is not None:
        # a token in the index URL is never written (redacted as pip redacts it)
        out.append(f"index_url = {_quote(redact_url(lock.index_url))}\n")
    for name in sorted(lock.projects):
        project = lock.projects[name]
        table = f"projects.{_quote(name)}"
        out.append(f"\n[{table}]\n")
        if project.unsigned is not None:
            out.append(f"unsigned = {_quote(project.unsigned)}\n")
        if project.note is not None:
            out.append(f"note = {_quote(project.note)}\n")
        if not project.maintainers:
            out.append("maintainers = []\n")
        for maintainer in project.maintainers:
            out.append(f"\n[[{table}.maintainers]]\n")
            out.append(f"user = {_quote(maintainer.user)}\n")
            out.append(f"role = {_quote(maintainer.role)}\n")
            if not maintainer.keys:
                out.append("keys = []\n")
                continue
            out.append("keys = [\n")
            for fpr in sorted(set(maintainer.keys)):
                when = maintainer.retired_at(fpr)
                if when is None:
                    out.append(f"    {_quote(fpr)},\n")
                else:
                    out.append(
                        f"    {{ fingerprint = {_quote(fpr)}, "
                        f"retired = {_quote(_timestamp(when))} }},\n"
                    )
            out.append("]\n")
    if lock.certificates:
        out.append("\n[certificates]\n")
        out.extend(_armor_literal(key, lock.certificates[key]) for key in sorted(lock.certificates))
    return "".join(out)


def build_lock(
    records: Iterable[OwnershipRecord],
    certificates: Mapping[str, bytes],
    *,
    index_url: str | None,
    previous: LockFile | None = None,
    unrecorded: Iterable[str] = (),
    allow_weakening: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> LockFile:
    """A lock file from fetched ownership records and key files (by primary fingerprint).

    Each certificate is checked as :func:`loads` checks it and re-armored canonically.
    A fingerprint a record lists but ``certificates`` lacks (the index has no key file for
    it) is left out of the lock, unless ``previous`` pinned it (see below): it could not
    verify anything offline, and the caller has said so. Certificates no record lists are
    not written. A project's ``unsigned`` and ``note`` are carried over from ``previous``;
    so is a previously pinned project named in ``unrecorded`` (asked for, but the index
    has no ownership record for it) when it had such an exception, with no maintainers.
    Raises :class:`LockFileError` for a record whose name is not a valid project name, two
    records for one project, or a certificate that is not the one its fingerprint names.

    Certificates only grow: a key ``previous`` pinned is written as the union of its
    previous and its fetched copy (:func:`~pgpverify.trust.memory.union_certificate`) when
    the fetched copy lacks packets the previous one held (a revocation, a newer
    self-signature), and as ``previous`` pinned it when a record still lists it but its key
    file is gone (so a revocation cannot be laundered by first withdrawing the key file,
    then serving an older copy), unless ``allow_weakening``. Retirements are not merged: the caller
    refuses a lock whose :func:`lock_changes` weaken one.
    """
    by_fpr: dict[str, bytes] = {}
    for key, data in certificates.items():
        fpr = _fingerprint(key, "certificates", None)
        by_fpr[fpr] = data
    projects: dict[str, LockedProject] = {}
    pinned: dict[str, bytes] = {}
    for record in records:
        name = record.normalized_project
        if not _is_normalized(name):
            raise LockFileError(f"not a valid project name: {_quote(record.project)}")
        if name in projects:
            raise LockFileError(f"two ownership records for project {name}")
        maintainers = [
            _pinned_maintainer(
                maintainer,
                by_fpr,
                pinned,
                previous=previous,
                allow_weakening=allow_weakening,
                limits=limits,
            )
            for maintainer in record.maintainers
        ]
        before = previous.project(name) if previous is not None else None
        projects[name] = LockedProject(
            name=name,
            maintainers=tuple(maintainers),
            unsigned=before.unsigned if before is not None else None,
            note=before.note if before is not None else None,
        )
    for wanted in unrecorded:
        name = canonicalize_name(wanted)
        before = previous.project(name) if previous is not None else None
        if name in projects or before is None:
            continue
        if before.unsigned is not None or before.note is not None:
            projects[name] = LockedProject(name=name, unsigned=before.unsigned, note=before.note)
    return LockFile(
        index_url=index_url, projects=projects, certificates=dict(sorted(pinned.items()))
    )


def _pinned_maintainer(
    maintainer: Maintainer,
    by_fpr: Mapping[str, bytes],
    pinned: dict[str, bytes],
    *,
    previous: LockFile | None,
    allow_weakening: bool,
    limits: Limits,
) -> Maintainer:
    """``maintainer`` with the keys that can be pinned, each pinned once in ``pinned``.

    A key is pinned from its fetched key file (grown by what ``previous`` held), or as
    ``previous`` pinned it when its key file is gone; a key with neither is left out.
    """
    keys = sorted(
        {fpr for fpr in maintainer.keys if fpr in by_fpr or _held(previous, fpr, allow_weakening)}
    )
    for fpr in keys:
        if fpr in pinned:
            continue
        held = _held(previous, fpr, allow_weakening)
        if fpr not in by_fpr and held is not None:
            pinned[fpr] = held  # the key file went away: the key stays as pinned
            continue
        pinned[fpr] = _check_certificate(
            by_fpr[fpr],
            fpr,
            limits=limits,
            source=None,
            what=f"key file for {fpr}",
        )
        if held is not None:
            pinned[fpr] = _grown(held, pinned[fpr], fpr, limits)
    retired = sorted((fpr, when) for fpr, when in maintainer.retired if fpr in keys)
    return Maintainer(
        user=maintainer.user, role=maintainer.role, keys=tuple(keys), retired=tuple(retired)
    )


def _held(previous: LockFile | None, fpr: str, allow_weakening: bool) -> bytes | None:
    """The certificate ``previous`` pinned for ``fpr``, unless weakening is allowed."""
    if previous is None or allow_weakening:
        return None
    return previous.certificates.get(fpr)


def _grown(held: bytes, fetched: bytes, fpr: str, limits: Limits) -> bytes:
    """``fetched``, or the union with ``held`` when ``fetched`` lacks packets ``held`` has."""
    old, new = _binary(held), _binary(fetched)
    merged = union_certificate([old, new], fingerprint=fpr, limits=limits)
    if _packet_set(merged) <= _packet_set(union_certificate([new], fingerprint=fpr, limits=limits)):
        return fetched
    return _check_certificate(
        merged,
        fpr,
        limits=limits,
        source=None,
        what=f"certificate {fpr} merged with the previous lock's",
    )


def _binary(armored: bytes) -> bytes:
    """The packets of a certificate as :func:`_check_certificate` armored it (one block)."""
    (block,) = decode_blocks(armored)
    return block.data


def _packet_set(certificate: bytes) -> set[tuple[int, bytes]]:
    return {(p.tag, p.body) for p in iter_packets(certificate, max_packets=len(certificate) + 1)}


@dataclass(frozen=True, slots=True)
class LockChange:
    """One difference between a regenerated lock file and the one it replaces.

    ``widens``: more keys may sign, or for longer (shown for review, not refused).
    ``weakens``: a retirement the previous lock held is dropped or moved later, or
    certificate packets it held are dropped; ``lock`` refuses these without
    ``--allow-weakening``.
    """

    project: str | None
    fingerprint: str | None
    description: str
    widens: bool = False
    weakens: bool = False

    def describe(self) -> str:
        """One line: where, and what."""
        where = self.project if self.project is not None else f"certificate {self.fingerprint}"
        marks = " [WEAKENS: refused without --allow-weakening]" if self.weakens else ""
        return f"{where}: {self.description}{marks}"


_WEAKENING = frozenset({ChangeKind.RETIREMENT_REMOVED, ChangeKind.RETIREMENT_LATER})


def lock_changes(
    previous: LockFile,
    current: LockFile,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[LockChange, ...]:
    """Every change from ``previous`` to ``current``: projects, statements, certificates."""
    out: list[LockChange] = []
    for name in sorted(set(previous.projects) | set(current.projects)):
        before, after = (_statement(lock, name) for lock in (previous, current))
        if name not in previous.projects:
            out.append(LockChange(name, None, "project pinned", widens=bool(after.signing())))
        elif name not in current.projects:
            out.append(LockChange(name, None, "project no longer pinned"))
        out += [
            LockChange(
                name,
                change.fingerprint,
                change.describe(),
                widens=change.widens,
                weakens=change.kind in _WEAKENING and name in current.projects,
            )
            for change in compare(before, after)
        ]
    for fpr in sorted(set(previous.certificates) & set(current.certificates)):
        old, new = (
            _packet_set(
                union_certificate([_binary(lock.certificates[fpr])], fingerprint=fpr, limits=limits)
            )
            for lock in (previous, current)
        )
        if new - old:
            out.append(LockChange(None, fpr, f"{len(new - old)} new packet(s)"))
        if old - new:
            out.append(
                LockChange(
                    None,
                    fpr,
                    f"{len(old - new)} packet(s) the previous lock held are dropped",
                    weakens=True,
                )
            )
    return tuple(out)


def _statement(lock: LockFile, name: str) -> TrustStatement:
    locked = lock.projects.get(name)
    return TrustStatement.from_maintainers(name, locked.maintainers if locked else ())


def write_lock(path: Path, lock: LockFile, *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Write ``lock`` to ``path`` atomically (UTF-8, LF): all of it or, on failure, nothing.

    The text is checked with :func:`loads` before anything is written. A temporary file in
    the same directory is written, flushed to disk and renamed over ``path``
    (``os.replace``, :func:`pgpverify.io.atomic_write`); on any failure it is removed and
    ``path`` is left as it was.
    """
    text = dumps(lock)
    loads(text, source=str(path), limits=limits)
    try:
        atomic_write(path, text.encode("utf-8"))
    except OSError as err:
        raise LockFileError(
            f"cannot write lock file: {err.strerror or err}", source=str(path)
        ) from None
    except ValueError as err:  # a NUL byte in the path
        raise LockFileError(f"cannot write lock file: {err}", source=str(path)) from None
