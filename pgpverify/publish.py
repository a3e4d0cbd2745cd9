"""Build an index's ``pgp/`` tree (index-layout.md) from maintainers' keys and records.

``publish(keys_dir, owners_dir, out_dir, now=...)`` reads every key file (``*.asc``,
``*.gpg``, ``*.pgp``; armored or binary; several certificates each) and every ownership
record (``*.json``), checks all of them, and writes::

    out_dir/pgp/keys/<FINGERPRINT>.asc       one stripped certificate per listed primary key
    out_dir/pgp/projects/<normalized>.json   one record per project
    out_dir/pgp/index.json                   {"projects": [sorted normalized names]}

Threat model: the inputs come from maintainers and are checked here once, so that what the
index serves is small, canonical and usable. Verifiers still check everything themselves.

Checks (every problem is collected; :class:`PublishError` lists them all, nothing is
written):

- key files: readable, armor sound, only public key blocks, no secret keys, no packets
  outside a certificate, no framing errors (a publisher's input is expected to be clean;
  a keyring with junk is refused rather than silently trimmed);
- each *listed* certificate, judged at ``now`` as published: it parses, has a valid
  self-signature (a forged one does not count), an algorithm and size the verifier's
  :class:`pgpverify.policy.Policy` accepts (the same object: at least 2048 bits for
  RSA/DSA/Elgamal by default), and one key (primary or subkey) that may sign with an
  accepted algorithm and size; a key file named
  by a fingerprint (``<40 hex>.asc``, as in an index's ``pgp/keys/``) holds exactly that
  certificate;
- each record: parses as an :class:`OwnershipRecord`, a valid project name that is also
  its file's name (``Demo_Pkg.json`` may hold ``demo-pkg``: both are normalized), one
  record per normalized project, each fingerprint listed once, each one the *primary*
  fingerprint of a certificate in the keys directory.

A listed certificate that is **revoked or expired** at ``now`` (the primary key, or every
key that could sign) is published with a warning, not refused: the index is how verifiers
learn that a maintainer's key was revoked, and an index that refused to serve the
revocation would leave them with the last copy they saw, or with none (then
``unknown-key`` instead of ``key-revoked``). A valid revocation is enough on its own (a
bare revocation certificate, primary key and 0x20, has no self-signature); a forged one
counts for nothing. Verifiers judge it all themselves.

Choices:

- Keys that no record lists are not published (and not judged); each is a warning in the
  :class:`PublishReport`.
- Certificates are stripped to what verification needs (see :func:`strip_certificate`);
  packets keep their received bodies (re-framed with new-format headers), components keep
  the order in which they were first seen, copies of one certificate (in one file or
  several, files taken in name order) are merged. Same inputs, same bytes.
- Records are rewritten from the parsed record: only ``project`` (normalized),
  ``maintainers[].user``, ``.role`` and ``.keys`` are kept; unknown fields are dropped,
  because the index publishes only what was checked. Fingerprints are upper-case; a retired
  key keeps the object form ``{"fingerprint": ..., "retired": ...}`` with the date as
  ``YYYY-MM-DD`` (midnight UTC) or ``YYYY-MM-DDTHH:MM:SSZ``.
- Writing: every file is first written to a staging directory inside ``out_dir``; then
  each one replaces its target with ``os.replace`` (keys first, then records, then
  ``index.json``, so a reader never sees a record that names a key not there yet), and
  ``keys/<FINGERPRINT>.asc`` and ``projects/<normalized name>.json`` files of an earlier
  publish that are no longer produced are removed. Other files under ``pgp/`` are left
  alone. If any step fails, every replaced or removed file is put back from a backup and
  the staging directory is removed: the previous tree stays as it was. (A process killed
  mid-publish can leave a ``.pgp-publish-*`` directory behind in ``out_dir``; it is never
  served, as it is outside ``pgp/``.)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from pgpverify.errors import (
    InputError,
    LimitExceededError,
    MalformedError,
    PublishError,
    UnsupportedError,
)
from pgpverify.io import BINARY, binary_blocks, read_bounded
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.armor import encode
from pgpverify.openpgp.certificate import Certificate, KeyVerdict, SigningKey, parse_certificate
from pgpverify.openpgp.constants import SigType
from pgpverify.openpgp.keymaterial import PublicKey, parse_key_packet
from pgpverify.openpgp.packets import Packet, Tag, encode_packet, iter_packets
from pgpverify.openpgp.signature import parse_signature
from pgpverify.policy import DEFAULT_POLICY, Policy
from pgpverify.trust.owners import ROLES, OwnershipRecord

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["KEY_SUFFIXES", "PublishReport", "publish", "strip_certificate"]

#: Key file name suffixes read from the keys directory (case-insensitive).
KEY_SUFFIXES = frozenset({".asc", ".gpg", ".pgp"})

_PRIMARY_SIGS = frozenset({SigType.DIRECT_KEY, SigType.KEY_REVOCATION})
_USER_ID_SIGS = frozenset(
    {
        SigType.GENERIC_CERT,
        SigType.PERSONA_CERT,
        SigType.CASUAL_CERT,
        SigType.POSITIVE_CERT,
        SigType.CERT_REVOCATION,
    }
)
_SUBKEY_SIGS = frozenset({SigType.SUBKEY_BINDING, SigType.SUBKEY_REVOCATION})
_IGNORED_TAGS = frozenset({Tag.TRUST, Tag.MARKER, Tag.PADDING})
#: A normalized project name (PEP 503 applied to a PEP 508 name): safe as a file name.
_NORMALIZED_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.ASCII)
_KEYBOX_MAGIC = b"KBXf"
_FPR_NAME = re.compile(r"[0-9A-F]{40}", re.ASCII)
_DAY = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class PublishReport:
    """What :func:`publish` wrote.

    ``projects`` are the normalized names and ``keys`` the fingerprints written, sorted;
    ``removed`` the paths (relative to ``root``) of stale files of an earlier publish that
    were deleted; ``warnings`` what was accepted but deserves a look (unlisted keys ...).
    """

    root: Path
    projects: tuple[str, ...]
    keys: tuple[str, ...]
    removed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def publish(
    keys_dir: Path,
    owners_dir: Path,
    out_dir: Path,
    *,
    now: int,
    limits: Limits = DEFAULT_LIMITS,
    policy: Policy = DEFAULT_POLICY,
) -> PublishReport:
    """Check the keys and records, then write ``out_dir/pgp/`` (see the module docstring).

    ``now`` (seconds since the epoch) is the time certificates are judged at, under
    ``policy`` (the verifier's algorithm policy: what it would refuse is not published).
    Raises
    :class:`PublishError` listing every problem found, before anything is written, or
    naming the file that could not be written (the previous tree is then left intact).
    """
    problems: list[str] = []
    warnings: list[str] = []
    certs = _read_keys(keys_dir, limits, problems)
    records = _read_records(owners_dir, limits, problems, warnings)

    listed = _listed_keys(records, certs, limits, problems)

    files: dict[str, bytes] = {}
    for fpr in sorted(certs):
        entry = certs[fpr]
        if fpr not in listed:
            warnings.append(
                f"key {fpr} ({', '.join(entry.sources)}) is not listed in any ownership "
                "record: not published"
            )
            continue
        data = _judge_and_strip(
            fpr, entry, now, limits=limits, problems=problems, warnings=warnings, policy=policy
        )
        if data is not None:
            files[f"keys/{fpr}.asc"] = encode(data, "PUBLIC KEY BLOCK")

    if problems:
        raise PublishError(problems)

    for name, (_, record) in records.items():
        files[f"projects/{name}.json"] = _dump(_record_json(name, record))
    files["index.json"] = _dump({"projects": sorted(records)})

    removed = _write_tree(out_dir, files)
    return PublishReport(
        root=out_dir / "pgp",
        projects=tuple(sorted(records)),
        keys=tuple(sorted(f[5:-4] for f in files if f.startswith("keys/"))),
        removed=tuple(removed),
        warnings=tuple(warnings),
    )


# -- key files ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Entry:
    """Every packet seen for one primary fingerprint, over all files, in order."""

    packets: list[Packet] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    subkeys: list[str] = field(default_factory=list)


def _listing(
    directory: Path, what: str, suffixes: frozenset[str], problems: list[str]
) -> list[Path]:
    """The files of ``directory`` with one of ``suffixes``, sorted; a problem if unreadable.

    A path the system cannot take (too long, a NUL byte) or a directory that cannot be
    listed is a listed problem, never an OSError or ValueError.
    """
    try:
        if not directory.is_dir():
            problems.append(f"{directory}: the {what} directory does not exist")
            return []
        return sorted(
            p for p in directory.iterdir() if p.suffix.lower() in suffixes and p.is_file()
        )
    except (OSError, ValueError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        problems.append(f"{directory}: cannot read the {what} directory ({why})")
        return []


def _key_files(keys_dir: Path, problems: list[str]) -> list[Path]:
    before = len(problems)
    files = _listing(keys_dir, "keys", KEY_SUFFIXES, problems)
    if not files and len(problems) == before:
        problems.append(f"{keys_dir}: no key files (*.asc, *.gpg, *.pgp)")
    return files


def _read_keys(keys_dir: Path, limits: Limits, problems: list[str]) -> dict[str, _Entry]:
    """Frame every key file into certificates, keyed by primary fingerprint (hex)."""
    certs: dict[str, _Entry] = {}
    for path in _key_files(keys_dir, problems):
        source = str(path)
        try:
            data = read_bounded(path, limits.keyring_bytes, "key file")
        except (InputError, MalformedError) as err:  # LimitExceededError is a MalformedError
            problems.append(str(err))
            continue
        held: list[str] = []
        for where, binary in _binary_parts(data, source, problems):
            _split(binary, where, source, certs=certs, limits=limits, problems=problems, held=held)
        named = path.stem.upper()
        if _FPR_NAME.fullmatch(named) and held and set(held) != {named}:
            # Named like an index's pgp/keys/<FINGERPRINT>.asc: it must be that certificate.
            problems.append(
                f"{source}: named for key {named} but holds {', '.join(dict.fromkeys(held))}"
            )
    return certs


def _binary_parts(data: bytes, source: str, problems: list[str]) -> list[tuple[str, bytes]]:
    """The binary packet data of a key file: each public key block, or the file itself."""
    if not data.strip():
        problems.append(f"{source}: the key file is empty")
        return []
    if len(data) >= 12 and data[4] == 1 and data[8:12] == _KEYBOX_MAGIC:
        problems.append(
            f"{source}: a GnuPG keybox (pubring.kbx), not an exported key; use "
            "'gpg --export --armor FINGERPRINT'"
        )
        return []
    try:
        blocks = binary_blocks(data)
    except MalformedError as err:
        problems.append(f"{source}: {err.message}")
        return []
    parts = []
    for block in blocks:
        where = f"{source}: armored block at line {block.line + 1}"
        if block.label == BINARY:
            parts.append((source, block.data))
        elif block.error is not None:
            problems.append(f"{where}: {block.error}")
        elif block.label == "PRIVATE KEY BLOCK":
            problems.append(f"{where}: a private key: export the public key only")
        elif block.label != "PUBLIC KEY BLOCK":
            problems.append(f"{where}: a PGP {block.label} is not a public key")
        else:
            parts.append((where, block.data))
    return parts


def _split(
    data: bytes,
    where: str,
    source: str,
    *,
    certs: dict[str, _Entry],
    limits: Limits,
    problems: list[str],
    held: list[str],
) -> None:
    """Append each certificate's packets in ``data`` to its entry in ``certs``.

    The primary fingerprint of each certificate started is appended to ``held``.
    """
    entry: _Entry | None = None
    outside = 0
    in_secret = False
    try:
        for pkt in iter_packets(data, max_packets=limits.keyring_packets, source=where):
            if pkt.tag == Tag.SECRET_KEY:
                problems.append(
                    f"{where}: a secret key at offset {pkt.offset}: export the public key only"
                )
                entry, in_secret = None, True
                continue
            if pkt.tag == Tag.PUBLIC_KEY:
                in_secret = False
                entry = _start(
                    pkt,
                    where,
                    source,
                    certs=certs,
                    limits=limits,
                    problems=problems,
                    held=held,
                )
                continue
            if entry is None:
                outside += not in_secret
                continue
            if len(entry.packets) >= limits.certificate_packets:
                raise LimitExceededError(
                    "number of packets in one certificate",
                    limits.certificate_packets,
                    source=where,
                )
            entry.packets.append(pkt)
            if pkt.tag == Tag.PUBLIC_SUBKEY:
                try:
                    sub = parse_key_packet(pkt.body).fingerprint.hex().upper()
                except (MalformedError, UnsupportedError):
                    continue
                if sub not in entry.subkeys:
                    entry.subkeys.append(sub)
    except MalformedError as err:  # LimitExceededError included
        problems.append(str(err) if err.source else f"{where}: {err.message}")
    if outside:
        problems.append(f"{where}: {outside} packet(s) outside any certificate")


def _start(
    pkt: Packet,
    where: str,
    source: str,
    *,
    certs: dict[str, _Entry],
    limits: Limits,
    problems: list[str],
    held: list[str],
) -> _Entry | None:
    try:
        key = parse_key_packet(pkt.body)
    except (MalformedError, UnsupportedError) as err:
        problems.append(f"{where}: the key at offset {pkt.offset}: {err.message}")
        return None
    fpr = key.fingerprint.hex().upper()
    held.append(fpr)
    entry = certs.get(fpr)
    if entry is None:
        if len(certs) >= limits.certificates:
            raise LimitExceededError("number of certificates", limits.certificates, source=where)
        entry = certs[fpr] = _Entry()
    entry.packets.append(pkt)
    if source not in entry.sources:
        entry.sources.append(source)
    return entry


# -- certificates ------------------------------------------------------------------------


def strip_certificate(packets: Iterable[Packet]) -> bytes:
    """The binary certificate a verifier needs, from the packets of one certificate.

    Kept: the primary key; its direct-key signatures (0x1F) and key revocations (0x20);
    each user ID with its self-certifications (0x10-0x13) and certification revocations
    (0x30); each subkey with its bindings (0x18, whose embedded back-signature stays inside
    the packet) and revocations (0x28). Only signatures whose issuer is the primary key (or
    that name no issuer, as :class:`Certificate` reads them) are kept, and only those that
    parse. Dropped: third-party certifications, user attributes and anything after them,
    unknown packets, trust, marker and padding packets, and a user ID or subkey left with no
    signature. Repeated components (a certificate given twice) are merged, in first-seen
    order; every kept packet has its received body under a new-format header.
    """
    primary: bytes | None = None
    key_id = b""
    direct: list[bytes] = []
    userids: dict[bytes, list[bytes]] = {}
    subkeys: dict[bytes, tuple[bytes, list[bytes]]] = {}
    target: list[bytes] | None = None
    allowed: frozenset[int] = frozenset()
    for pkt in packets:
        if pkt.tag == Tag.PUBLIC_KEY:
            if primary is None:
                primary = pkt.body
                key_id = parse_key_packet(pkt.body).key_id
            target, allowed = direct, _PRIMARY_SIGS
        elif primary is None:
            continue
        elif pkt.tag == Tag.USER_ID:
            target, allowed = userids.setdefault(pkt.body, []), _USER_ID_SIGS
        elif pkt.tag == Tag.PUBLIC_SUBKEY:
            try:
                sub = parse_key_packet(pkt.body)
            except (MalformedError, UnsupportedError):
                target = None
                continue
            target = subkeys.setdefault(sub.fingerprint, (pkt.body, []))[1]
            allowed = _SUBKEY_SIGS
        elif pkt.tag == Tag.SIGNATURE:
            if target is None or pkt.body in target:
                continue
            try:
                sig = parse_signature(pkt.body)
            except MalformedError:
                continue
            ids = sig.issuer_key_ids
            if sig.sig_type in allowed and (not ids or key_id in ids):
                target.append(pkt.body)
        elif pkt.tag not in _IGNORED_TAGS:
            target = None
    if primary is None:
        raise MalformedError("no public key packet")
    out = [
        encode_packet(Tag.PUBLIC_KEY, primary),
        *(encode_packet(Tag.SIGNATURE, s) for s in direct),
    ]
    for uid, sigs in userids.items():
        if sigs:
            out += [
                encode_packet(Tag.USER_ID, uid),
                *(encode_packet(Tag.SIGNATURE, s) for s in sigs),
            ]
    for body, sigs in subkeys.values():
        if sigs:
            out += [
                encode_packet(Tag.PUBLIC_SUBKEY, body),
                *(encode_packet(Tag.SIGNATURE, s) for s in sigs),
            ]
    return b"".join(out)


def _judge_and_strip(
    fpr: str,
    entry: _Entry,
    now: int,
    *,
    limits: Limits,
    problems: list[str],
    warnings: list[str],
    policy: Policy = DEFAULT_POLICY,
) -> bytes | None:
    """The stripped certificate, or None after adding its problems to ``problems``.

    The *stripped* certificate is what is judged: what the index serves must pass. A
    revoked or expired one passes with a warning (it carries news verifiers need).
    """
    what = f"key {fpr} ({', '.join(entry.sources)})"
    try:
        data = strip_certificate(entry.packets)
        cert = parse_certificate(
            iter_packets(data, max_packets=limits.certificate_packets),
            max_subpackets=limits.subpackets,
            nesting=limits.nesting,
        )
    except (MalformedError, UnsupportedError) as err:
        problems.append(f"{what}: does not parse: {err.message}")
        return None
    try:
        found, lapsed = _certificate_problems(cert, now, policy)
    except LimitExceededError as err:  # a work cap: forged signatures past what is verified
        problems.append(f"{what}: not judged: {err.message}")
        return None
    problems += [f"{what}: {p}" for p in found]
    if found:
        return None
    warnings += [
        f"{what}: {note}; published so that verifiers see it (they judge each signature by it)"
        for note in lapsed
    ]
    return data


#: Judgements that end a certificate's use in time but do not make it unfit to publish.
_LAPSED = frozenset({KeyVerdict.REVOKED, KeyVerdict.EXPIRED})


def _certificate_problems(
    cert: Certificate, now: int, policy: Policy = DEFAULT_POLICY
) -> tuple[list[str], list[str]]:
    """(problems that refuse the certificate, notes on a revoked or expired one)."""
    found: list[str] = []
    primary = SigningKey(packet=cert.primary.packet, is_primary=True)
    try:
        strength = _too_weak(cert.primary_material(), policy)
    except UnsupportedError as err:
        # Nothing made by this key can be checked: its self-signatures least of all.
        return [f"unsupported: {err.message}"], []
    except MalformedError as err:
        return [f"the primary key does not decode: {err.message}"], []
    if strength:
        found.append(strength)
    if strength:
        return found, []
    # A valid revocation (its math checked against the primary key) is news whatever
    # else the certificate holds: a bare revocation certificate, primary key and 0x20
    # only, is published too, and verifiers answer key-revoked.
    judgement = cert.judge(primary, now, now, policy=policy)
    if judgement is not None and judgement.verdict is KeyVerdict.REVOKED:
        return [], [f"revoked: {judgement.message}"]
    selfsigs = cert.self_signatures(now, policy=policy)
    if not selfsigs:
        found.append("no valid self-signature (the primary key does not certify itself)")
        return found, []
    expiration = selfsigs[-1].key_expiration
    if expiration and cert.primary.packet.created + expiration <= now:
        expired = _iso(cert.primary.packet.created + expiration)
        return [], [f"expired: the primary key expired at {expired}"]
    reasons = []
    lapsed = []
    keys = [
        primary,
        *(SigningKey(packet=c.packet, is_primary=False) for c in cert.subkeys.values()),
    ]
    for key in keys:
        name = "the primary key" if key.is_primary else f"subkey {_hex(key.packet.fingerprint)}"
        judgement = cert.judge(key, now, now, policy=policy)
        if judgement is not None and judgement.verdict not in _LAPSED:
            reasons.append(f"{name}: {judgement.message}")
            continue
        try:
            material = cert.material(key)
        except (MalformedError, UnsupportedError) as err:
            reasons.append(f"{name}: {err.message}")
            continue
        weak = _too_weak(material, policy)
        if not material.can_sign:
            reasons.append(f"{name}: {material.name} is not a signing algorithm")
        elif weak:
            reasons.append(f"{name}: {weak}")
        elif judgement is not None:
            # A signing key that was revoked or has expired: news for verifiers.
            lapsed.append(f"{name}: {judgement.message}")
        else:
            return found, []
    if lapsed:
        return found, ["no key can sign any more (" + "; ".join(lapsed) + ")"]
    found.append("no key can sign (" + "; ".join(reasons) + ")")
    return found, []


def _too_weak(material: PublicKey, policy: Policy) -> str | None:
    problem = policy.key_problem(material)
    return None if problem is None else f"too weak: {problem}"


# -- ownership records -------------------------------------------------------------------


def _read_records(
    owners_dir: Path, limits: Limits, problems: list[str], warnings: list[str]
) -> dict[str, tuple[Path, OwnershipRecord]]:
    """Parsed records by normalized project name."""
    before = len(problems)
    records: dict[str, tuple[Path, OwnershipRecord]] = {}
    paths = _listing(owners_dir, "ownership records", frozenset({".json"}), problems)
    if not paths and len(problems) == before:
        problems.append(f"{owners_dir}: no ownership records (*.json) to publish")
    for path in paths:
        try:
            record = OwnershipRecord.from_file(path, limits=limits)
        except (InputError, MalformedError) as err:  # OwnersError, LimitExceededError
            problems.append(str(err))
            continue
        name = record.normalized_project
        if not _NORMALIZED_NAME.fullmatch(name):
            problems.append(f"{path}: {record.project!r} is not a valid project name")
            continue
        if canonicalize_name(path.stem) != name:
            # A record filed under another name is a record for another project: served
            # as projects/<name>.json it would hand this project's signers that one.
            problems.append(
                f"{path}: the record is for project {record.project!r} but its file is named "
                f"{path.name!r}: name it {name}.json"
            )
            continue
        if name in records:
            problems.append(
                f"{records[name][0]} and {path}: two ownership records for project {name}"
            )
            continue
        records[name] = (path, record)
        warnings.extend(
            f"{path}: {m.user}'s role {m.role!r} is not Owner or Maintainer: their keys do "
            "not sign for the project"
            for m in record.maintainers
            if m.role not in ROLES
        )
        if not any(m.keys for m in record.maintainers):
            warnings.append(f"{path}: lists no keys: nothing can be signed for {name}")
    return records


def _listed_keys(
    records: dict[str, tuple[Path, OwnershipRecord]],
    certs: dict[str, _Entry],
    limits: Limits,
    problems: list[str],
) -> dict[str, list[str]]:
    """Every primary fingerprint the records list -> the projects listing it; problems."""
    subkey_of: dict[str, str] = {}
    for fpr, entry in certs.items():
        for sub in entry.subkeys:
            subkey_of.setdefault(sub, fpr)
    listed: dict[str, list[str]] = {}
    for path, record in (records[name] for name in sorted(records)):
        distinct = len({fpr for m in record.maintainers for fpr in m.keys})
        if distinct > limits.record_keys:
            problems.append(
                f"{path}: lists {distinct} keys, more than Limits.record_keys "
                f"({limits.record_keys}): verifiers would refuse the record"
            )
            continue
        _check_record_keys(
            path, record, certs=certs, subkey_of=subkey_of, listed=listed, problems=problems
        )
    return listed


def _check_record_keys(
    path: Path,
    record: OwnershipRecord,
    *,
    certs: dict[str, _Entry],
    subkey_of: dict[str, str],
    listed: dict[str, list[str]],
    problems: list[str],
) -> None:
    seen: dict[str, str] = {}
    for maintainer in record.maintainers:
        for fpr in maintainer.keys:
            if fpr in seen:
                who = (
                    f"twice for {maintainer.user}"
                    if seen[fpr] == maintainer.user
                    else f"for {seen[fpr]} and {maintainer.user}"
                )
                problems.append(f"{path}: key {fpr} is listed {who}")
                continue
            seen[fpr] = maintainer.user
            if fpr in certs:
                listed.setdefault(fpr, []).append(record.normalized_project)
            elif fpr in subkey_of:
                problems.append(
                    f"{path}: lists subkey {fpr} of primary {subkey_of[fpr]}: list the primary"
                )
            else:
                problems.append(f"{path}: lists key {fpr}, which no key file holds")


def _record_json(name: str, record: OwnershipRecord) -> dict[str, Any]:
    maintainers = []
    for m in record.maintainers:
        keys: list[Any] = []
        for fpr in m.keys:
            when = m.retired_at(fpr)  # the earliest; the epoch (0) is a date too
            keys.append(fpr if when is None else {"fingerprint": fpr, "retired": _date(when)})
        maintainers.append({"user": m.user, "role": m.role, "keys": keys})
    return {"project": name, "maintainers": maintainers}


def _date(when: int) -> str:
    """``YYYY-MM-DD`` at midnight UTC, else the full time; four-digit years, before 1970 too."""
    moment = _EPOCH + timedelta(seconds=when)
    if when % _DAY == 0:
        return moment.date().isoformat()
    return _iso(when)


def _iso(when: int) -> str:
    return format_utc(when)


def _dump(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode()


# -- writing -----------------------------------------------------------------------------

#: Files of an earlier publish that are removed when no longer produced.
_STALE = re.compile(r"keys/[0-9A-F]{40}\.asc|projects/[a-z0-9]+(?:-[a-z0-9]+)*\.json", re.ASCII)


def _write_tree(out_dir: Path, files: dict[str, bytes]) -> list[str]:
    """Stage ``files`` under ``out_dir``, then move each into ``out_dir/pgp``; undo on error.

    Returns the stale files removed, relative to ``pgp/``.
    """
    root = out_dir / "pgp"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".pgp-publish-", dir=out_dir))
    except OSError as err:
        raise PublishError([f"cannot write to {out_dir}: {err.strerror or err}"]) from err
    except ValueError as err:  # a NUL byte in the path
        raise PublishError([f"cannot write to {out_dir}: {err}"]) from err
    staged, backup = work / "new", work / "old"
    # Keys first, then records, then the index: each file a reader sees only names
    # files already in place.
    order = sorted(
        files, key=lambda name: (not name.startswith("keys/"), name == "index.json", name)
    )
    stale = [
        f"{sub}/{p.name}"
        for sub in ("keys", "projects")
        if (root / sub).is_dir()
        for p in sorted((root / sub).iterdir())
        if _STALE.fullmatch(f"{sub}/{p.name}") and p.is_file() and f"{sub}/{p.name}" not in files
    ]
    done: list[tuple[str, bool]] = []  # (name, whether a previous version is in backup)
    try:
        for name in order:
            _write_file(staged / name, files[name])
        for sub in ("keys", "projects"):
            (root / sub).mkdir(parents=True, exist_ok=True)
            (backup / sub).mkdir(parents=True, exist_ok=True)
        for name in order:
            target = root / name
            had = target.exists()
            if had:
                shutil.copy2(target, backup / name)
            done.append((name, had))
            (staged / name).replace(target)
        for name in stale:
            (root / name).replace(backup / name)
            done.append((name, True))
    except OSError as err:
        _undo(root, backup, done)
        shutil.rmtree(work, ignore_errors=True)
        where = err.filename or out_dir
        raise PublishError(
            [f"cannot write the pgp/ tree: {where}: {err.strerror or err}; nothing changed"],
            source=str(out_dir),
        ) from err
    shutil.rmtree(work, ignore_errors=True)
    return stale


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _undo(root: Path, backup: Path, done: list[tuple[str, bool]]) -> None:
    """Put back every file replaced or removed, newest step first (best effort)."""
    for name, had in reversed(done):
        with contextlib.suppress(OSError):
            if had:
                (backup / name).replace(root / name)
            else:
                (root / name).unlink(missing_ok=True)


def _hex(fingerprint: bytes) -> str:
    return fingerprint.hex().upper()
