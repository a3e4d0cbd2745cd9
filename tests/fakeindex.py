"""An index in memory behind the Fetcher protocol, for unit tests (no network).

``FakeIndex`` serves documents from a dict and records every request; ``demo_index()``
lays out the demo project the way index-layout.md says an index publishes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pgpverify.errors import NetworkError
from pgpverify.index.fetch import Response
from pgpverify.openpgp.keyring import Keyring

ROOT = "https://index.test/"
INDEX_URL = ROOT + "simple/"
DEMO = Path(__file__).resolve().parent.parent / "vectors" / "demo"
WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"


@dataclass
class FakeIndex:
    """url -> (status, body, content type); a url mapped to an exception raises it."""

    documents: dict[str, tuple[int, bytes, str] | Exception] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def get(self, url, *, max_bytes, accept=None, etag=None, last_modified=None):
        self.requests.append(url)
        doc = self.documents.get(url)
        if doc is None:
            return Response(url=url, status=404)
        if isinstance(doc, Exception):
            raise doc
        status, body, content_type = doc
        if len(body) > max_bytes:
            raise NetworkError(f"response larger than {max_bytes} bytes", source=url)
        return Response(url=url, status=status, body=body, content_type=content_type)

    def put(self, url, body, content_type="application/octet-stream", status=200):
        self.documents[url] = (status, body, content_type)


def split_keyring(path: Path) -> dict[str, bytes]:
    """Armored blocks of a keyring file, by primary fingerprint."""
    text = path.read_bytes()
    blocks: dict[str, bytes] = {}
    start = 0
    while True:
        begin = text.find(b"-----BEGIN PGP PUBLIC KEY BLOCK-----", start)
        if begin < 0:
            return blocks
        end = text.index(b"-----END PGP PUBLIC KEY BLOCK-----", begin)
        block = text[begin : end + len(b"-----END PGP PUBLIC KEY BLOCK-----")] + b"\n"
        ring = Keyring()
        ring.add_bytes(block, source="split")
        (fpr,) = ring.fingerprints
        blocks[fpr.hex().upper()] = block
        start = end + 1


def demo_index(*, signature=True, page="html", record=None) -> FakeIndex:
    """The demo project published on a fake index: page, wheel, .asc, record, keys.

    ``record`` replaces the demo's ownership record (a dict); every key it lists, plain or
    with a retirement date, is published.
    """
    index = FakeIndex()
    if record is None:
        record = json.loads((DEMO / "owners" / "demo-pkg.json").read_text())
    keys = split_keyring(DEMO / "keyring.asc")
    index.put(ROOT + "pgp/projects/demo-pkg.json", json.dumps(record).encode(), "application/json")
    for maintainer in record["maintainers"]:
        for key in maintainer["keys"]:
            # a key is a fingerprint, or an object with one (and a retirement date)
            fpr = key if isinstance(key, str) else key["fingerprint"]
            index.put(ROOT + f"pgp/keys/{fpr}.asc", keys[fpr], "application/pgp-keys")
    file_url = ROOT + f"packages/{WHEEL}"
    if page == "html":
        sig = ' data-gpg-sig="true"' if signature else ' data-gpg-sig="false"'
        link = f'<a href="../../packages/{WHEEL}#sha256=00"{sig}>{WHEEL}</a>'
        html = f"<html><body>{link}</body></html>"
        index.put(INDEX_URL + "demo-pkg/", html.encode(), "text/html")
    else:
        doc = {
            "meta": {"api-version": "1.0"},
            "name": "demo-pkg",
            "files": [{"filename": WHEEL, "url": file_url, "hashes": {}, "gpg-sig": signature}],
        }
        index.put(
            INDEX_URL + "demo-pkg/", json.dumps(doc).encode(), "application/vnd.pypi.simple.v1+json"
        )
    index.put(file_url, (DEMO / WHEEL).read_bytes())
    index.put(file_url + ".asc", (DEMO / f"{WHEEL}.asc").read_bytes(), "text/plain")
    return index


def without_key_revocation(fpr: str) -> bytes:
    """An older copy of a demo key file: every packet but the key revocation (binary)."""
    from pgpverify.openpgp.armor import decode_blocks
    from pgpverify.openpgp.constants import SigType
    from pgpverify.openpgp.packets import Tag, iter_packets

    (block,) = decode_blocks(split_keyring(DEMO / "keyring.asc")[fpr])
    kept = [
        p
        for p in iter_packets(block.data, max_packets=1000)
        if not (p.tag == Tag.SIGNATURE and p.body[1] == SigType.KEY_REVOCATION)
    ]
    assert len(kept) < len(list(iter_packets(block.data, max_packets=1000)))
    return b"".join(
        bytes([0xC0 | p.tag, 0xFF]) + len(p.body).to_bytes(4, "big") + p.body for p in kept
    )
