"""``file:`` URLs: a local PEP 503 tree read through the :class:`Fetcher` protocol.

pip takes ``--index-url file:///srv/simple`` (or a plain directory) and reads a directory URL
as its ``index.html``. :class:`FileFetcher` does the same, bounded like HTTP: at most
``max_bytes`` are read (one more to notice an oversized file, which is a
:class:`~pgpverify.errors.NetworkError` like an oversized download), a missing file is a
404 answer, and anything else that goes wrong (a permission, a special file) is a
NetworkError naming the URL, never another exception.

Threat model: a local tree is as trusted as the index it mirrors; a *remote* page must never
lead to a local file, which :class:`~pgpverify.index.client.IndexClient` enforces (a ``file:``
link is followed only from a ``file:`` page). :class:`SchemeFetcher` sends ``file:`` URLs
here and every other URL to the network fetcher, so the cache never stores local files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from pgpverify.errors import NetworkError, ResponseTooLargeError
from pgpverify.index.fetch import CappedReader, Download, Response, open_stream

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pgpverify.index.fetch import Fetcher

__all__ = [
    "FileFetcher",
    "SchemeFetcher",
    "file_url_problem",
    "is_directory",
    "is_file_url",
    "path_to_url",
]

_CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/vnd.pypi.simple.v1+json",
    ".asc": "text/plain",
}
#: hosts a file: URL may name: none, or this machine
_LOCAL_HOSTS = frozenset({"", "localhost"})


def is_file_url(url: str) -> bool:
    """Whether ``url`` has the ``file`` scheme."""
    return url[:5].lower() == "file:"


def file_url_problem(url: str) -> str | None:
    """What makes a ``file:`` URL unusable (a remote host, a NUL), or None."""
    try:
        parts = urlsplit(url)
    except ValueError as err:
        return f"invalid URL: {err}"
    if parts.scheme.lower() != "file":
        return "not a file: URL"
    if parts.netloc.lower() not in _LOCAL_HOSTS:
        return f"a file: URL names host {parts.netloc!r}: only local files are read"
    if "\x00" in unquote(parts.path):
        return "a file: URL with a NUL byte"
    return None


def path_to_url(path: Path) -> str:
    """A directory or file path as a ``file:`` URL (directories end in ``/``)."""
    absolute = path.resolve()
    url = absolute.as_uri()
    return url + "/" if is_directory(absolute) and not url.endswith("/") else url


def is_directory(path: Path) -> bool:
    """``path.is_dir()``, except that a path that cannot be looked up is no directory.

    A name too long or a permission: whoever reads the path next reports why (a 404 or a
    NetworkError naming the URL), never an OSError.
    """
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _local_path(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path))


@dataclass(frozen=True, slots=True)
class FileFetcher:
    """Read ``file:`` URLs from disk, bounded (a directory is read as its ``index.html``)."""

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,  # noqa: ARG002 - the protocol's; a file has one type
        etag: str | None = None,  # noqa: ARG002 - never conditional: local files are fresh
        last_modified: str | None = None,  # noqa: ARG002
    ) -> Response:
        """The file's bytes (200), or 404 when it does not exist; NetworkError otherwise."""
        opened = _open_local(url)
        if opened is None:
            return Response(url=url, status=404)
        fd, path = opened
        try:
            with os.fdopen(fd, "rb") as stream:
                info = os.fstat(stream.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise NetworkError("not a regular file", source=url)
                # sized to the file, not to the cap (read(n) allocates n octets first: a
                # small key file under a 256 MiB cap took 256 MiB); a file that grew since
                # the fstat is read on to the cap
                want = min(info.st_size, max_bytes) + 1
                body = stream.read(want)
                if len(body) == want and want <= max_bytes:
                    body += stream.read(max_bytes + 1 - len(body))
        except OSError as err:
            raise NetworkError(f"cannot read: {_why(err)}", source=url) from None
        if len(body) > max_bytes:
            raise ResponseTooLargeError(f"larger than {max_bytes} bytes", source=url)
        return Response(
            url=url, status=200, body=body, content_type=_CONTENT_TYPES.get(path.suffix.lower())
        )

    @contextlib.contextmanager
    def stream(self, url: str, *, max_bytes: int) -> Iterator[Download]:
        """The file opened for reading (200, at most ``max_bytes``), or 404; as ``get``."""
        opened = _open_local(url)
        if opened is None:
            yield Download(url=url, status=404)
            return
        fd, _ = opened
        try:
            stream = os.fdopen(fd, "rb")
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                stream.close()
                raise NetworkError("not a regular file", source=url)
        except OSError as err:
            raise NetworkError(f"cannot read: {_why(err)}", source=url) from None

        def read(size: int) -> bytes:
            try:
                return stream.read(size)
            except OSError as err:
                raise NetworkError(f"cannot read: {_why(err)}", source=url) from None

        with stream:
            yield Download(
                url=url, status=200, body=CappedReader(read, max_bytes=max_bytes, source=url)
            )


def _open_local(url: str) -> tuple[int, Path] | None:
    """A read-only descriptor of the file ``url`` names (a directory's ``index.html``).

    None when it does not exist; NetworkError for an unusable URL or an unreadable file.
    """
    problem = file_url_problem(url)
    if problem is not None:
        raise NetworkError(problem, source=url)
    path = _local_path(url)
    try:
        if is_directory(path):
            path /= "index.html"
        # non-blocking: a FIFO without a writer must not hang the open (it is then
        # refused as not a regular file); no effect on regular files
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:  # no file can have that name: absent
            return None
        raise NetworkError(f"cannot read: {_why(err)}", source=url) from None
    except ValueError as err:
        raise NetworkError(f"cannot read: {_why(err)}", source=url) from None
    return fd, path


def _why(err: Exception) -> str:
    return (err.strerror if isinstance(err, OSError) else None) or str(err)


@dataclass(frozen=True, slots=True)
class SchemeFetcher:
    """``file:`` URLs to ``files``, every other URL to ``network`` (None: offline-only)."""

    files: FileFetcher
    network: Fetcher | None = None

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """Dispatch on the scheme; a network URL without a network fetcher is an error."""
        if is_file_url(url):
            return self.files.get(url, max_bytes=max_bytes)
        if self.network is None:
            raise NetworkError("no network fetcher for this URL", source=url)
        return self.network.get(
            url, max_bytes=max_bytes, accept=accept, etag=etag, last_modified=last_modified
        )

    @contextlib.contextmanager
    def stream(self, url: str, *, max_bytes: int) -> Iterator[Download]:
        """Stream ``url`` from ``files`` or ``network`` as ``get`` dispatches it."""
        if is_file_url(url):
            with self.files.stream(url, max_bytes=max_bytes) as download:
                yield download
            return
        if self.network is None:
            raise NetworkError("no network fetcher for this URL", source=url)
        with open_stream(self.network, url, max_bytes=max_bytes) as download:
            yield download
