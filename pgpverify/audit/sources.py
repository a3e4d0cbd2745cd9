"""Where an audit reads an index: over HTTP(S) (``--index-url``) or a mirror on disk.

Both go through :class:`pgpverify.index.client.IndexClient`, so the URL policy, byte caps,
the ownership-record and key-file checks are the ones ``verify --index-url`` applies.
A mirror (``--mirror DIR``) is a PEP 503 tree: ``DIR/simple/<project>/`` pages (a
bandersnatch mirror's ``DIR/web/simple/`` too), the files they link, their ``.asc`` and the
``pgp/`` tree beside ``simple/``. A directory page is read as its PEP 691
``index.v1_json`` when there is one (it carries upload times), else ``index.html``. Every
path a page leads to must stay inside the mirror (no ``..``, no symbolic link out of it).

Also here: the project list for ``--all`` (PEP 691 JSON or HTML root page, else
``pgp/index.json``), shards, and the ``--max-rps`` token bucket.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from packaging.utils import canonicalize_name

from pgpverify.errors import IndexResponseError, InputError, NetworkError
from pgpverify.index.fetch import Download, Response, open_stream
from pgpverify.index.localfs import FileFetcher, is_directory, path_to_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pgpverify.index.client import IndexClient
    from pgpverify.index.fetch import Fetcher

__all__ = [
    "MirrorFetcher",
    "RateLimitedFetcher",
    "TokenBucket",
    "in_shard",
    "list_projects",
    "mirror_root",
    "parse_shard",
]

#: a root page of a big index lists hundreds of thousands of names
_MAX_ROOT_BYTES = 256 << 20
_MAX_PROJECTS = 2_000_000
_PROJECT_NAME_MAX = 200


def mirror_root(directory: Path) -> Path:
    """The directory holding ``simple/`` (``DIR`` or a bandersnatch ``DIR/web``)."""
    for root in (directory, directory / "web"):
        if (root / "simple").is_dir():
            return root.resolve()
    raise InputError(
        "not a PEP 503 mirror: no simple/ directory (nor web/simple/)", source=str(directory)
    )


@dataclass(frozen=True, slots=True)
class MirrorFetcher:
    """``file:`` URLs inside one mirror directory, read bounded; anything outside is refused."""

    root: Path
    files: FileFetcher = field(default_factory=FileFetcher)

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,  # noqa: ARG002 - the protocol's
        etag: str | None = None,  # noqa: ARG002
        last_modified: str | None = None,  # noqa: ARG002
    ) -> Response:
        """The document under the mirror (404 when absent); NetworkError outside it."""
        path = self._inside(url)
        if is_directory(path):
            for name in ("index.v1_json", "index.html"):
                if (path / name).is_file():
                    found = self.files.get(path_to_url(path / name), max_bytes=max_bytes)
                    kind = (
                        "application/vnd.pypi.simple.v1+json"
                        if name.endswith("json")
                        else "text/html"
                    )
                    return Response(
                        url=url, status=found.status, body=found.body, content_type=kind
                    )
            return Response(url=url, status=404)
        found = self.files.get(path_to_url(path), max_bytes=max_bytes)
        return Response(
            url=url, status=found.status, body=found.body, content_type=found.content_type
        )

    @contextlib.contextmanager
    def stream(self, url: str, *, max_bytes: int) -> Iterator[Download]:
        """A file under the mirror opened for reading (404 when absent), as ``get``."""
        path = self._inside(url)
        if is_directory(path):
            yield Download(url=url, status=404)  # a directory is a page, not a file
            return
        with self.files.stream(path_to_url(path), max_bytes=max_bytes) as found:
            yield Download(url=url, status=found.status, body=found.body)

    def _inside(self, url: str) -> Path:
        try:
            path = Path(url2pathname(urlsplit(url).path)).resolve()
        except (ValueError, OSError) as err:
            raise NetworkError(f"unusable mirror path: {err}", source=url) from None
        if not path.is_relative_to(self.root):
            raise NetworkError("leads outside the mirror directory: refused", source=url)
        return path


class TokenBucket:
    """At most ``rate`` requests a second on average, bursts up to ``burst`` (thread-safe)."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            msg = "the rate must be positive"
            raise ValueError(msg)
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> None:
        """Wait until a token is free, then spend it."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(wait)


@dataclass(frozen=True, slots=True)
class RateLimitedFetcher:
    """A Fetcher that takes a token from ``bucket`` before each request."""

    fetcher: Fetcher
    bucket: TokenBucket

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET through the wrapped fetcher, at the bucket's pace."""
        self.bucket.take()
        return self.fetcher.get(
            url, max_bytes=max_bytes, accept=accept, etag=etag, last_modified=last_modified
        )

    @contextlib.contextmanager
    def stream(self, url: str, *, max_bytes: int) -> Iterator[Download]:
        """Stream through the wrapped fetcher, at the bucket's pace."""
        self.bucket.take()
        with open_stream(self.fetcher, url, max_bytes=max_bytes) as download:
            yield download


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N) as (index from 0, count); ValueError otherwise."""
    left, sep, right = text.partition("/")
    if not sep or not left.strip().isdigit() or not right.strip().isdigit():
        msg = f"not a shard K/N: {text!r}"
        raise ValueError(msg)
    k, n = int(left), int(right)
    if not 1 <= k <= n <= 100_000:
        msg = f"shard {text!r}: need 1 <= K <= N <= 100000"
        raise ValueError(msg)
    return k - 1, n


def in_shard(project: str, index: int, count: int) -> bool:
    """Whether ``project`` (any spelling) belongs to shard ``index`` of ``count``.

    A stable hash of the PEP 503-normalised name: the same on every machine and Python
    (never ``hash()``, which is salted per process).
    """
    name = str(canonicalize_name(project)).encode()
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big") % count == index


class _Names(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: list[str] = []
        self._in = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        del attrs  # a project name is the link text (PEP 503)
        if tag == "a":
            self._in, self._text = True, []

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._in:
            self._in = False
            self.names.append("".join(self._text).strip())


def _names_from_root(response: Response) -> list[object]:
    kind = (response.content_type or "").split(";")[0].strip().lower()
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        raise IndexResponseError("root page is not UTF-8", source=response.url) from None
    if "json" in kind:
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            raise IndexResponseError("root page is not valid JSON", source=response.url) from None
        projects = doc.get("projects") if isinstance(doc, dict) else None
        if not isinstance(projects, list):
            raise IndexResponseError("root page JSON has no 'projects' list", source=response.url)
        return [p.get("name") if isinstance(p, dict) else p for p in projects]
    parser = _Names()
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError) as err:
        raise IndexResponseError(f"root page does not parse: {err}", source=response.url) from None
    return list(parser.names)


def _names_from_pgp(response: Response) -> list[object]:
    try:
        doc = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise IndexResponseError("pgp/index.json is not valid JSON", source=response.url) from None
    projects = doc.get("projects") if isinstance(doc, dict) else None
    if not isinstance(projects, list):
        raise IndexResponseError("pgp/index.json has no 'projects' list", source=response.url)
    return projects


def list_projects(client: IndexClient) -> list[str]:
    """Every project the index lists, normalised, sorted, without duplicates.

    The simple root page (PEP 691 JSON or PEP 503 HTML) when the index serves one, else
    ``pgp/index.json`` (the projects with an ownership record). A name that is no project
    name is skipped.
    """
    root = client.index_url if client.index_url.endswith("/") else client.index_url + "/"
    response = client.get_listed(root, page=root, max_bytes=_MAX_ROOT_BYTES)
    if response.found:
        names = _names_from_root(response)
    else:
        url = f"{client.pgp_root}pgp/index.json"
        response = client.get_listed(url, page=root, max_bytes=_MAX_ROOT_BYTES)
        if not response.found:
            raise IndexResponseError(
                "the index lists no projects: no root page and no pgp/index.json", source=root
            )
        names = _names_from_pgp(response)
    if len(names) > _MAX_PROJECTS:
        raise IndexResponseError(f"more than {_MAX_PROJECTS} projects listed", source=root)
    found = {
        str(canonicalize_name(n))
        for n in names
        if isinstance(n, str) and 0 < len(n) <= _PROJECT_NAME_MAX and _valid_name(n)
    }
    return sorted(found)


def _valid_name(name: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?", name, re.ASCII) is not None
