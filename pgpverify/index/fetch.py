"""What the index client needs from a transport: the :class:`Fetcher` protocol.

Implementations: :class:`pgpverify.index.http.HttpFetcher` (requests), the cache wrapper
:class:`pgpverify.index.cache.CachingFetcher`, and ``tests/fakeindex.py`` (in memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Fetcher", "Response"]


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
