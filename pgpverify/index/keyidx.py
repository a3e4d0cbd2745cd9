"""Persisted keyring indexes: one file per large binary keyring, next to the cache.

``<cache dir>/keyrings/<SHA-256 of the keyring's real path>.idx`` holds the
:class:`~pgpverify.openpgp.keyring_index.KeyringIndex` a full scan built, and is used
while the keyring file is unchanged: same device, inode, size and ``mtime_ns``, and the
same SHA-256 over its first and last 64 KiB (a rewrite in place that keeps the size and
the time still changes that). The index file carries a SHA-256 of its own content, so a
torn or corrupt one is ignored, and the limits it was built under. Anything that does not
match is no index: the keyring is scanned and the index written again. Nothing here is
trusted for more than offsets (:mod:`pgpverify.openpgp.keyring_index` checks every claim
against the keyring's octets). Writing is best effort (atomic replace, mode 0600, in a
0700 directory): a read-only cache only means the next run scans again.
"""

from __future__ import annotations

import hashlib
import os
import struct
from typing import TYPE_CHECKING

from pgpverify.openpgp.keyring_index import KeyringIndex

if TYPE_CHECKING:
    from pathlib import Path

    from pgpverify.io import StrPath
    from pgpverify.limits import Limits
    from pgpverify.openpgp.packets import Octets

__all__ = ["KeyringIndexStore", "default_directory"]

_MAGIC = b"PGPVKIX1"
#: dev, ino, size, mtime_ns, keyring_packets, certificate_packets, certificates (limits),
#: certificates (count), packets, and the lengths of the three tables that follow
_HEADER = struct.Struct(">QQQQQQQQQQQQ")
_SAMPLE = 64 * 1024
_DIGEST = 32
#: an index is a small fraction of its keyring; this bounds what a hostile one costs to read
_MAX_INDEX_BYTES = 64 << 20
#: warnings an index may replay (a scan gives a handful: junk, secret keys, bad keys)
_MAX_WARNINGS = 1000


def _content_check(data: Octets) -> bytes:
    """SHA-256 over the first and last 64 KiB of the keyring and its size."""
    size = len(data)
    sha = hashlib.sha256(size.to_bytes(8, "big"))
    sha.update(data[:_SAMPLE])
    sha.update(data[max(0, size - _SAMPLE) :])
    return sha.digest()


def default_directory() -> Path:
    """The cache directory the command uses by default (``default_cache_dir()``).

    On Linux computed here as platformdirs does (``$XDG_CACHE_HOME`` when it is an absolute
    path, else ``~/.cache``, then ``pgpverify``): importing platformdirs costs about 6 ms,
    a tenth of a verify run with an indexed keyring. Elsewhere platformdirs answers.
    """
    import sys
    from pathlib import Path

    platform: str = sys.platform  # a variable: the other branch is checked on Linux too
    if platform == "linux":
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = xdg if xdg.startswith("/") else os.path.expanduser("~/.cache")  # noqa: PTH111
        return Path(base) / "pgpverify"
    import platformdirs

    return platformdirs.user_cache_path("pgpverify")


class KeyringIndexStore:
    """Index files for keyrings, in ``directory`` (the cache directory)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "keyrings"
        #: index files written this run (tests and benchmarks count them)
        self.written = 0

    def path_for(self, keyring: StrPath) -> Path:
        """The index file of ``keyring`` (by its real path)."""
        real = os.path.realpath(os.fsencode(keyring))
        return self.directory / f"{hashlib.sha256(real).hexdigest()}.idx"

    def load(self, keyring: StrPath, data: Octets, limits: Limits) -> KeyringIndex | None:
        """The index of ``keyring`` (whose octets are ``data``), or None if none fits."""
        # an index is far smaller than its keyring: a larger file is not read to the end
        limit = min(_MAX_INDEX_BYTES, len(data) + _SAMPLE)
        try:
            found = os.stat(keyring)  # noqa: PTH116 - a str or a Path
            with self.path_for(keyring).open("rb") as stream:
                blob = stream.read(limit + 1)
        except (OSError, ValueError):
            return None
        if len(blob) > limit or len(blob) < len(_MAGIC) + _HEADER.size + 2 * _DIGEST:
            return None
        body, digest = blob[:-_DIGEST], blob[-_DIGEST:]
        if not body.startswith(_MAGIC) or hashlib.sha256(body).digest() != digest:
            return None
        pos = len(_MAGIC)
        (
            dev,
            ino,
            size,
            mtime_ns,
            kp,
            cp,
            certs_cap,
            certificates,
            packets,
            certs_len,
            keys_len,
            warn_len,
        ) = _HEADER.unpack_from(body, pos)
        pos += _HEADER.size
        identity = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
        if (dev, ino, size, mtime_ns) != identity or size != len(data):
            return None
        if (kp, cp, certs_cap) != (
            limits.keyring_packets,
            limits.certificate_packets,
            limits.certificates,
        ):
            return None
        check, pos = body[pos : pos + _DIGEST], pos + _DIGEST
        if check != _content_check(data):
            return None
        if pos + certs_len + keys_len + warn_len != len(body):
            return None
        certs = body[pos : pos + certs_len]
        keys = body[pos + certs_len : pos + certs_len + keys_len]
        try:
            text = body[pos + certs_len + keys_len :].decode("utf-8")
        except UnicodeDecodeError:
            return None
        warnings = tuple(text.split("\n")) if text else ()
        if len(warnings) > _MAX_WARNINGS:
            return None  # a scan says it again, bounded as a scan is
        return KeyringIndex(
            certs=certs, keys=keys, certificates=certificates, packets=packets, warnings=warnings
        )

    def save(self, keyring: StrPath, data: Octets, index: KeyringIndex, limits: Limits) -> None:
        """Write the index of ``keyring`` atomically; failures are ignored (best effort)."""
        try:
            found = os.stat(keyring)  # noqa: PTH116 - a str or a Path
        except (OSError, ValueError):
            return
        if found.st_size != len(data) or len(index.warnings) > _MAX_WARNINGS:
            return  # changed while it was read, or an index load() would refuse
        text = "\n".join(w.replace("\n", " ") for w in index.warnings).encode("utf-8", "replace")
        body = b"".join(
            (
                _MAGIC,
                _HEADER.pack(
                    found.st_dev,
                    found.st_ino,
                    found.st_size,
                    found.st_mtime_ns,
                    limits.keyring_packets,
                    limits.certificate_packets,
                    limits.certificates,
                    index.certificates,
                    index.packets,
                    len(index.certs),
                    len(index.keys),
                    len(text),
                ),
                _content_check(data),
                index.certs,
                index.keys,
                text,
            )
        )
        blob = body + hashlib.sha256(body).digest()
        from pgpverify.io import atomic_write  # only when writing: start-up cost

        target = self.path_for(keyring)
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write(target, blob, mode=0o600)
        except (OSError, ValueError):
            return
        self.written += 1
