"""What the index client needs from a transport: the :class:`Fetcher` protocol.

Implementations: :class:`pgpverify.index.http.HttpFetcher` (requests), the cache wrapper
:class:`pgpverify.index.cache.CachingFetcher`, and ``tests/fakeindex.py`` (in memory).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pgpverify.errors import ResponseTooLargeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["CappedReader", "Download", "Fetcher", "Response", "StreamingFetcher", "open_stream"]


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer the client can act on: 200, 304 (not modified), 404 or 410.

    Any other outcome (connection failure, timeout, 5xx after retries, a body over the cap,
    TLS failure) is a :class:`pgpverify.errors.NetworkError`, never a Response: "not found"
    and "the server did not answer" are never confused.
    """

    url: str
    status: int
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    #: True when the body came from the local cache (revalidated, or offline)
    from_cache: bool = False
    #: seconds the answer stays fresh (``Cache-Control: max-age``), None to revalidate
    max_age: float | None = None

    @property
    def found(self) -> bool:
        """Whether the document exists (200, or 304 resolved from the cache)."""
        return self.status in (200, 304)


class Fetcher(Protocol):
    """Fetch one document by URL, streaming at most ``max_bytes`` of body.

    ``url`` may carry credentials (``https://user:token@host/...``): they are meant for
    that origin alone. An implementation sends them nowhere else (not on a redirect to
    another origin) and never writes them: the Response's ``url``, cache keys and error
    messages name the URL without them (:mod:`pgpverify.urls`).
    """

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET ``url``; conditional when ``etag``/``last_modified`` are given (may give 304).

        Returns a Response for 200, 304, 404 and 410; raises NetworkError for anything else.
        """
        ...


class Readable(Protocol):
    """A binary stream's ``read``: at most ``size`` bytes, ``b""`` at the end."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (all that is left when negative); ``b""`` at the end."""
        ...


@dataclass(frozen=True, slots=True)
class Download:
    """A download opened for streaming: 200 with a ``body`` to read, or 404/410 (none).

    Reading the body may raise :class:`~pgpverify.errors.NetworkError` (the connection
    failed, the whole-download deadline passed) or
    :class:`~pgpverify.errors.ResponseTooLargeError` (more than the caller's cap): a body
    is never silently cut short.
    """

    url: str
    status: int
    body: Readable = field(default_factory=io.BytesIO)

    @property
    def found(self) -> bool:
        """Whether the document exists."""
        return self.status == 200


class StreamingFetcher(Fetcher, Protocol):
    """A Fetcher that can also stream a large document without holding it (``stream``)."""

    def stream(self, url: str, *, max_bytes: int) -> contextlib.AbstractContextManager[Download]:
        """Open ``url`` for reading under the same rules as ``get`` (policy, cap, deadline)."""
        ...


@contextlib.contextmanager
def open_stream(fetcher: Fetcher, url: str, *, max_bytes: int) -> Iterator[Download]:
    """``fetcher.stream(url)`` when it streams, else its ``get`` answer as a stream."""
    streaming = getattr(fetcher, "stream", None)
    if callable(streaming):
        with streaming(url, max_bytes=max_bytes) as download:
            yield download
        return
    response = fetcher.get(url, max_bytes=max_bytes)
    status = 200 if response.found else response.status
    yield Download(url=response.url or url, status=status, body=io.BytesIO(response.body))


class CappedReader:
    """``read`` over ``source_read``, a :class:`ResponseTooLargeError` past ``max_bytes``.

    The octet after the cap is asked for, so a body of exactly ``max_bytes`` passes and
    one octet more is refused as soon as it is read.
    """

    def __init__(self, source_read: Callable[[int], bytes], *, max_bytes: int, source: str) -> None:
        self._read = source_read
        self._left = max_bytes
        self._max = max_bytes
        self._source = source

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (the rest, within the cap, when negative)."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        data = self._read(min(size, self._left + 1) if size else 0)
        self._left -= len(data)
        if self._left < 0:
            raise ResponseTooLargeError(f"larger than {self._max} bytes", source=self._source)
        return data
