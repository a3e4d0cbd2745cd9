"""Small signed distributions on an index, for the ``check`` / ``install`` tests (test-only keys).

``World`` builds real (tiny, installable) wheels, signs them with certbuild's Ed25519 keys,
and publishes them as an index does: on a :class:`fakeindex.FakeIndex` (HTML or PEP 691 JSON
pages, with upload times), or as a static PEP 503 tree on disk (for ``file:`` URLs and
``python -m http.server``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from certbuild import SIGNED, sig, signer_cert, w
from fakeindex import INDEX_URL, ROOT, FakeIndex

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Signer:
    label: str
    primary: object
    fpr: str
    key_file: bytes

    @classmethod
    def make(cls, label: str) -> Signer:
        cert, primary, _ = signer_cert(label)
        return cls(label, primary, primary.fpr, w.armor("PUBLIC KEY BLOCK", cert.octets()))

    def sign(self, data: bytes, t: int = SIGNED) -> bytes:
        return w.armor("SIGNATURE", sig(self.primary, w.BINARY, data, t))


ALICE = Signer.make("check-alice")
MALLORY = Signer.make("check-mallory")


def wheel(
    project: str, version: str, *, module: str | None = None, requires: tuple[str, ...] = ()
) -> tuple[str, bytes]:
    """(file name, bytes) of a minimal pure-Python wheel pip can install."""
    dist = project.replace("-", "_")
    module = module or dist
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{module}.py": f"VERSION = {version!r}\n".encode(),
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: checkworld\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)
    return f"{dist}-{version}-py3-none-any.whl", buffer.getvalue()


@dataclass
class Dist:
    project: str
    filename: str
    data: bytes
    signature: bytes | None
    #: "true", "false" or None (the index says nothing)
    gpg_sig: str | None
    upload_time: str | None
    #: whether the page lists the .asc as a link of its own
    listed_sig: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class World:
    dists: list[Dist] = field(default_factory=list)
    #: project -> [(user, role, fingerprint)]
    owners: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    keys: dict[str, bytes] = field(default_factory=dict)

    def own(self, project: str, signer: Signer, user: str = "alice", role: str = "Owner") -> None:
        self.owners.setdefault(project, []).append((user, role, signer.fpr))
        self.keys[signer.fpr] = signer.key_file

    def add(
        self,
        project: str,
        version: str = "1.0",
        *,
        signer: Signer | None = ALICE,
        t: int = SIGNED,
        gpg_sig: str | None = "auto",
        upload_time: str | None = None,
        listed_sig: bool = False,
        requires: tuple[str, ...] = (),
    ) -> Dist:
        filename, data = wheel(project, version, requires=requires)
        signature = signer.sign(data, t) if signer is not None else None
        if gpg_sig == "auto":
            gpg_sig = "true" if signature is not None else "false"
        dist = Dist(project, filename, data, signature, gpg_sig, upload_time, listed_sig)
        self.dists.append(dist)
        return dist

    def record(self, project: str) -> bytes:
        maintainers = [{"user": u, "role": r, "keys": [f]} for u, r, f in self.owners[project]]
        return json.dumps({"project": project, "maintainers": maintainers}).encode()

    def _html(self, project: str, prefix: str) -> bytes:
        links = []
        for d in self.dists:
            if d.project != project:
                continue
            attr = "" if d.gpg_sig is None else f' data-gpg-sig="{d.gpg_sig}"'
            links.append(
                f'<a href="{prefix}{d.filename}#sha256={d.sha256}"{attr}>{d.filename}</a><br>'
            )
            if d.listed_sig:
                links.append(f'<a href="{prefix}{d.filename}.asc">{d.filename}.asc</a><br>')
        return ("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n").encode()

    def _json(self, project: str, prefix: str) -> bytes:
        files = []
        for d in self.dists:
            if d.project != project:
                continue
            entry: dict[str, object] = {
                "filename": d.filename,
                "url": prefix + d.filename,
                "hashes": {"sha256": d.sha256},
            }
            if d.gpg_sig is not None:
                entry["gpg-sig"] = d.gpg_sig == "true"
            if d.upload_time is not None:
                entry["upload-time"] = d.upload_time
            files.append(entry)
        return json.dumps(
            {"meta": {"api-version": "1.1"}, "name": project, "files": files}
        ).encode()

    def fake(self, *, page: str = "json") -> FakeIndex:
        """The world on an in-memory index at fakeindex.ROOT."""
        index = FakeIndex()
        for project in {d.project for d in self.dists} | set(self.owners):
            if page == "json":
                index.put(
                    INDEX_URL + f"{project}/",
                    self._json(project, "../../packages/"),
                    "application/vnd.pypi.simple.v1+json",
                )
            else:
                index.put(
                    INDEX_URL + f"{project}/", self._html(project, "../../packages/"), "text/html"
                )
            if project in self.owners:
                index.put(
                    ROOT + f"pgp/projects/{project}.json", self.record(project), "application/json"
                )
        for fpr, data in self.keys.items():
            index.put(ROOT + f"pgp/keys/{fpr}.asc", data, "application/pgp-keys")
        for d in self.dists:
            index.put(ROOT + f"packages/{d.filename}", d.data)
            if d.signature is not None:
                index.put(ROOT + f"packages/{d.filename}.asc", d.signature, "text/plain")
        return index

    def write(self, root: Path) -> Path:
        """The world as a static tree: simple/<project>/index.html, packages/, pgp/."""
        for project in {d.project for d in self.dists} | set(self.owners):
            page = root / "simple" / project
            page.mkdir(parents=True, exist_ok=True)
            (page / "index.html").write_bytes(self._html(project, "../../packages/"))
            if project in self.owners:
                records = root / "pgp" / "projects"
                records.mkdir(parents=True, exist_ok=True)
                (records / f"{project}.json").write_bytes(self.record(project))
        keys = root / "pgp" / "keys"
        keys.mkdir(parents=True, exist_ok=True)
        for fpr, data in self.keys.items():
            (keys / f"{fpr}.asc").write_bytes(data)
        packages = root / "packages"
        packages.mkdir(parents=True, exist_ok=True)
        for d in self.dists:
            (packages / d.filename).write_bytes(d.data)
            if d.signature is not None:
                (packages / f"{d.filename}.asc").write_bytes(d.signature)
        return root / "simple"

    def local(self, directory: Path, *dists: Dist) -> Path:
        """A wheelhouse: the given distributions' files (all by default), no signatures."""
        directory.mkdir(parents=True, exist_ok=True)
        for d in dists or tuple(self.dists):
            (directory / d.filename).write_bytes(d.data)
        return directory
