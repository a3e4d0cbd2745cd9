"""A small index on disk for the audit tests, with every category (test-only keys).

``build_index(root)`` lays out a PEP 503/691 tree as a mirror has it (and as
``tests/integration/pep691_server.py`` serves it): ``simple/`` (root page in HTML and
PEP 691 JSON, a project page per project as ``index.html`` and ``index.v1_json`` with
upload times), ``packages/<project>/`` (files and ``.asc``) and the ``pgp/`` tree. It
returns what each file must get.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from certbuild import (
    K0,
    Cert,
    certification,
    key,
    key_revocation,
    uid_packet,
    w,
)

if TYPE_CHECKING:
    from pathlib import Path

UPLOAD = 1_677_628_800  # 2023-03-01T00:00:00Z
SIGNED = UPLOAD + 3600
BACKSIGNED = UPLOAD + 2 * 365 * 86400  # two years after the upload
EXPIRES = 1_704_067_200  # 2024-01-01
REVOKED = 1_717_200_000  # 2024-06-01
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
GOOD_PROJECTS = 18


@dataclass(frozen=True)
class Signer:
    label: str
    primary: object
    cert: bytes

    @property
    def fpr(self) -> str:
        return self.primary.fpr


def signer(label: str, *, expires: int | None = None, revoked: int | None = None) -> Signer:
    primary = key(label)
    uid = f"{label} <{label}@example.org>".encode()
    cert = (
        Cert(primary)
        .add(
            primary.packet(),
            *([key_revocation(primary, revoked, 2)] if revoked is not None else []),
        )
        .add(uid_packet(uid), certification(primary, uid, K0, expires=expires))
    )
    return Signer(label, primary, w.armor("PUBLIC KEY BLOCK", cert.octets()))


def signature(who: Signer, data: bytes, t: int, *, hash_algo: int = w.SHA256) -> bytes:
    hashed, unhashed = w.default_subpackets(who.primary, t)
    body = w.sign(who.primary, w.SigSpec(w.BINARY, hash_algo, hashed, unhashed), data)
    return w.armor("SIGNATURE", w.packet(w.TAG_SIGNATURE, body))


@dataclass
class Listed:
    project: str
    filename: str
    data: bytes
    asc: bytes | None
    category: str
    upload_time: int | None = UPLOAD
    listed_sha256: str | None = None


def _files() -> tuple[list[Listed], dict[str, list[Signer]], list[Signer]]:
    alice = signer("alice")
    erin = signer("erin", expires=EXPIRES)
    rob = signer("rob", revoked=REVOKED)
    mallory = signer("mallory")
    nobody = signer("nobody")
    owners: dict[str, list[Signer]] = {}
    files: list[Listed] = []

    def add(
        project: str,
        category: str,
        who: Signer | None,
        *,
        t: int = SIGNED,
        signers: list[Signer] | None = None,
        **kw: object,
    ) -> Listed:
        name = f"{project.replace('-', '_')}-1.0.tar.gz"
        data = f"contents of {name}\n".encode()
        asc = None if who is None else signature(who, data, t)
        owners.setdefault(project, signers if signers is not None else [alice])
        item = Listed(project, name, data, asc, category, **kw)  # type: ignore[arg-type]
        files.append(item)
        return item

    for n in range(GOOD_PROJECTS):
        add(f"good-{n:02d}", "good", alice)
    add("backsigned", "good-backsigned", alice, t=BACKSIGNED)
    add("expired", "expired-since", erin, signers=[erin])
    add("revoked", "revoked-since", rob, signers=[rob])
    add("unsigned", "unsigned", None)
    add("other", "good", mallory, signers=[mallory])
    add("victim", "not-owner", mallory)
    add("stranger", "unknown-key", nobody)
    bad = add("tampered", "bad-signature", alice)
    bad.asc = signature(alice, b"other bytes", SIGNED)
    weak = add("sha1", "weak-hash", alice)
    weak.asc = w.armor(
        "SIGNATURE",
        w.packet(
            w.TAG_SIGNATURE,
            w.sign(
                alice.primary,
                w.SigSpec(w.BINARY, w.SHA1, *w.default_subpackets(alice.primary, SIGNED)),
                weak.data,
            ),
        ),
    )
    add("undated", "good", alice, upload_time=None)
    add("swapped", "hash-mismatch", alice, listed_sha256="00" * 32)
    return files, owners, [alice, erin, rob, mallory]


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_index(root: Path) -> list[Listed]:
    """Write the index under ``root``; the files with the category each must get."""
    files, owners, published = _files()
    simple = root / "simple"
    simple.mkdir(parents=True)
    names = sorted(owners)
    (simple / "index.html").write_text(
        "<html><body>" + "".join(f'<a href="{n}/">{n}</a>' for n in names) + "</body></html>"
    )
    (simple / "index.v1_json").write_text(
        json.dumps({"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in names]})
    )
    for item in files:
        page = simple / item.project
        page.mkdir(exist_ok=True)
        packages = root / "packages" / item.project
        packages.mkdir(parents=True, exist_ok=True)
        (packages / item.filename).write_bytes(item.data)
        if item.asc is not None:
            (packages / (item.filename + ".asc")).write_bytes(item.asc)
        digest = item.listed_sha256 or hashlib.sha256(item.data).hexdigest()
        url = f"../../packages/{item.project}/{item.filename}"
        (page / "index.html").write_text(
            f'<html><body><a href="{html.escape(url)}#sha256={digest}">'
            f"{html.escape(item.filename)}</a></body></html>"
        )
        if item.upload_time is not None:
            entry = {
                "filename": item.filename,
                "url": url,
                "hashes": {"sha256": digest},
                "upload-time": _iso(item.upload_time),
            }
            (page / "index.v1_json").write_text(
                json.dumps({"meta": {"api-version": "1.1"}, "name": item.project, "files": [entry]})
            )
    pgp = root / "pgp"
    (pgp / "projects").mkdir(parents=True)
    (pgp / "keys").mkdir()
    for project, signers in owners.items():
        record = {
            "project": project,
            "maintainers": [{"user": s.label, "role": "Owner", "keys": [s.fpr]} for s in signers],
        }
        (pgp / "projects" / f"{project}.json").write_text(json.dumps(record))
    for s in published:
        (pgp / "keys" / f"{s.fpr}.asc").write_bytes(s.cert)
    (pgp / "index.json").write_text(json.dumps({"projects": names}))
    return files


def expected_totals(files: list[Listed]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in files:
        totals[item.category] = totals.get(item.category, 0) + 1
    return totals
