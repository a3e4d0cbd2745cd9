"""The real transport: :class:`HttpFetcher`, a ``Fetcher`` over requests.

Threat model: the index and the network are not trusted to be well-behaved. A server may
stall, drop the connection mid-body, send more bytes than announced (or than we want),
redirect in circles or to plain HTTP, or answer 5xx. Every such case ends in one of two
ways: a :class:`~pgpverify.index.fetch.Response` (200, 304, 404, 410) or one
:class:`~pgpverify.errors.NetworkError` whose message is one line naming the URL and what
went wrong. No exception from requests, urllib3, ``ssl`` or ``socket`` escapes.

- HTTPS certificates are always verified (``ca_bundle``, else ``REQUESTS_CA_BUNDLE`` /
  ``CURL_CA_BUNDLE``, else requests' default bundle).
- Plain HTTP is refused before any connection unless the host is this machine
  (127.0.0.0/8, ::1, ``localhost``) or ``allow_insecure`` is set; the same rule is applied
  to every redirect target before it is followed (at most ``max_redirects``), and a
  redirect from HTTPS down to plain HTTP is refused unless ``allow_insecure``.
- Bodies are streamed and counted as they arrive; the cap is the caller's ``max_bytes``.
- Retries (connection errors, timeouts, a body cut short, 429 and 500/502/503/504) back off
  exponentially through an injectable ``sleep``; nothing here reads the clock.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, final
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3.exceptions

from pgpverify import __version__
from pgpverify.errors import NetworkError
from pgpverify.index.fetch import Response

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import TracebackType


__all__ = ["HttpConfig", "HttpFetcher"]

_E = TypeVar("_E", bound=BaseException)

#: statuses worth asking again: rate limited, or a server / gateway in trouble
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: statuses that are an answer, not a failure
_ANSWER_STATUSES = frozenset({404, 410})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_MAX_REASON = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
#: where in OpenSSL's C source an error came from: noise for people
_SSL_LOCATION = re.compile(r"\s*\(_ssl\.c:\d+\)")


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """How :class:`HttpFetcher` talks to the network.

    ``backoff`` is the first retry delay in seconds; each further retry doubles it, up to
    ``backoff_max``. A numeric ``Retry-After`` from the server is honoured up to
    ``backoff_max`` too. ``sleep`` is injectable so tests do not wait.
    """

    #: seconds to establish a TCP (and TLS) connection
    connect_timeout: float = 5.0
    #: seconds to wait for each read from the socket (not the whole body)
    read_timeout: float = 30.0
    #: further attempts after the first one fails in a retryable way
    retries: int = 3
    #: first retry delay in seconds (then doubled each time)
    backoff: float = 0.5
    #: no single delay (backoff or Retry-After) exceeds this many seconds
    backoff_max: float = 10.0
    #: redirects followed for one request
    max_redirects: int = 5
    #: allow plain HTTP to hosts other than this machine
    allow_insecure: bool = False
    #: CA bundle file (or directory) for HTTPS; None means requests' default
    ca_bundle: str | None = None
    #: client certificate: a PEM file holding both, or (certificate, key) files
    client_cert: str | tuple[str, str] | None = None
    user_agent: str = f"pgpverify/{__version__}"
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Reject settings that cannot work (they come from the command line)."""
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must be >= 0")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("timeouts must be > 0")
        if self.backoff < 0 or self.backoff_max < 0:
            raise ValueError("backoff must be >= 0")

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        wait: float = self.backoff * 2.0 ** min(retry, 30)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.backoff_max)


class _FetchError(Exception):
    """A request failed for good; ``message`` says how (the URL is added by ``get``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _RetryableError(_FetchError):
    """One attempt failed in a way worth another try; ``message`` says how."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@final
class HttpFetcher:
    """Fetch documents over HTTP(S) with one :class:`requests.Session` for its lifetime.

    Use it as a context manager, or call :meth:`close`. Proxies, ``NO_PROXY`` and CA bundle
    variables come from the environment (``trust_env``), as for pip. A session is not
    shared between threads: use one fetcher per thread.
    """

    def __init__(self, config: HttpConfig | None = None) -> None:
        self.config = config if config is not None else HttpConfig()
        self._session = requests.Session()
        self._session.trust_env = True
        self._session.headers["User-Agent"] = self.config.user_agent
        if self.config.client_cert is not None:
            self._session.cert = self.config.client_cert

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the session and every pooled connection."""
        self._session.close()

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET ``url``: a Response for 200/304/404/410, else :class:`NetworkError`.

        ``Response.url`` is the final URL after redirects (relative links resolve
        against it). Error messages name the requested URL, credentials masked.
        """
        source = _redact(url)
        headers: dict[str, str] = {}
        if accept is not None:
            headers["Accept"] = accept
        if etag is not None:
            headers["If-None-Match"] = etag
        if last_modified is not None:
            headers["If-Modified-Since"] = last_modified
        current = url
        try:
            _check_url(current, allow_insecure=self.config.allow_insecure)
            for _ in range(self.config.max_redirects + 1):
                outcome = self._get_with_retries(current, headers, max_bytes)
                if isinstance(outcome, Response):
                    return outcome
                previous, current = current, outcome
                _check_url(current, allow_insecure=self.config.allow_insecure)
                if (_scheme(previous) == "https" and _scheme(current) == "http"
                        and not self.config.allow_insecure):
                    raise _FetchError(
                        "refusing a redirect from HTTPS to plain HTTP; use --allow-insecure"
                    )
        except _FetchError as err:
            message = err.message
            if current != url:
                message = f"redirected to {_redact(current)}: {message}"
            raise NetworkError(message, source=source) from None
        raise NetworkError(
            f"too many redirects (more than {self.config.max_redirects})", source=source
        )

    # -- one hop ------------------------------------------------------------------------

    def _get_with_retries(
        self, url: str, headers: dict[str, str], max_bytes: int
    ) -> Response | str:
        """One hop with retries: a Response, or the redirect target URL."""
        attempts = self.config.retries + 1
        attempt = 0
        while True:
            try:
                return self._attempt(url, headers, max_bytes)
            except _RetryableError as err:  # noqa: PERF203 - one try per network attempt
                if attempt + 1 >= attempts:
                    suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
                    raise _FetchError(f"{err.message}{suffix}") from None
                self.config.sleep(self.config.delay(attempt, err.retry_after))
                attempt += 1

    def _attempt(self, url: str, headers: dict[str, str], max_bytes: int) -> Response | str:
        """One request: a Response, a redirect target, or _RetryableError / NetworkError."""
        config = self.config
        try:
            with self._session.get(
                url,
                headers=headers,
                stream=True,
                allow_redirects=False,
                timeout=(config.connect_timeout, config.read_timeout),
                verify=config.ca_bundle if config.ca_bundle is not None else True,
            ) as answer:
                return self._read(url, answer, max_bytes)
        except _FetchError:
            raise
        except (requests.RequestException, urllib3.exceptions.HTTPError,
                http.client.HTTPException, OSError, ValueError) as err:
            message, retryable = _describe(err, config, urlsplit(url).hostname or "?")
            if retryable:
                raise _RetryableError(message) from None
            raise _FetchError(message) from None

    def _read(self, url: str, answer: requests.Response, max_bytes: int) -> Response | str:
        status = answer.status_code
        if status in _REDIRECT_STATUSES:
            location = answer.headers.get("Location")
            if not location:
                raise _FetchError(f"HTTP {status} {_reason(answer)} without a Location header")
            return urljoin(url, location.strip())
        if status in _RETRY_STATUSES:
            raise _RetryableError(
                f"HTTP {status} {_reason(answer)}", _retry_after(answer.headers.get("Retry-After"))
            )
        if status in _ANSWER_STATUSES:
            return Response(url=url, status=status)
        if status == 304:
            return Response(
                url=url,
                status=304,
                etag=answer.headers.get("ETag"),
                last_modified=answer.headers.get("Last-Modified"),
            )
        if status != 200:
            raise _FetchError(f"HTTP {status} {_reason(answer)}")
        announced = _content_length(answer.headers.get("Content-Length"))
        if announced is not None and announced > max_bytes:
            raise _FetchError(
                f"response larger than {max_bytes} bytes (Content-Length: {announced})"
            )
        body = bytearray()
        for chunk in answer.iter_content(chunk_size=min(_CHUNK, max_bytes + 1)):
            body += chunk
            if len(body) > max_bytes:
                # the context manager closes the connection: it is not reused
                raise _FetchError(f"response larger than {max_bytes} bytes")
        return Response(
            url=url,
            status=200,
            body=bytes(body),
            content_type=answer.headers.get("Content-Type"),
            etag=answer.headers.get("ETag"),
            last_modified=answer.headers.get("Last-Modified"),
        )


# -- helpers ----------------------------------------------------------------------------


def _check_url(url: str, *, allow_insecure: bool) -> None:
    """Apply the URL policy before any traffic: scheme, host, plain HTTP to loopback."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as err:
        raise _FetchError(f"invalid URL: {_one_line(str(err))}") from None
    if not scheme:
        raise _FetchError("invalid URL: no scheme (expected https://...)")
    if scheme not in ("http", "https"):
        raise _FetchError(f"unsupported URL scheme {scheme!r}: use https://")
    if not host:
        raise _FetchError("invalid URL: no host")
    if scheme == "http" and not allow_insecure and not _is_loopback(host):
        raise _FetchError(f"refusing plain HTTP to {host}; use HTTPS or --allow-insecure")


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def _is_loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # IPv4-mapped IPv6 (::ffff:127.0.0.1) counts as loopback on Python 3.13 but not before:
    # refuse it everywhere, so the policy does not depend on the Python version.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return False
    return address.is_loopback


def _redact(url: str) -> str:
    """``url`` with any password masked (index URLs often carry tokens)."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rpartition("@")[2]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
    except ValueError:
        return url


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(answer: requests.Response) -> str:
    return _one_line(answer.reason or "", _MAX_REASON)


def _content_length(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _retry_after(value: str | None) -> float | None:
    """A numeric Retry-After in seconds; an HTTP date is ignored (we do not read the clock)."""
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        return None
    return float(min(int(value), 24 * 3600))


def _chain(err: BaseException) -> Iterator[BaseException]:
    """``err`` and everything it wraps: causes, contexts, urllib3 reasons, exception args."""
    seen: set[int] = set()
    todo = [err]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [getattr(current, "reason", None), current.__cause__, current.__context__]
        nested += list(current.args)
        todo += [item for item in nested if isinstance(item, BaseException)]


def _find(err: BaseException, kind: type[_E]) -> _E | None:
    return next((item for item in _chain(err) if isinstance(item, kind)), None)


def _innermost(err: BaseException) -> str:
    """The most specific message in the chain (the OS's or ssl's, not urllib3's wrapper)."""
    for item in _chain(err):
        if isinstance(item, OSError) and item.strerror:
            return _one_line(item.strerror)
    return _one_line(str(err))


def _describe(err: BaseException, config: HttpConfig, host: str) -> tuple[str, bool]:
    """One line saying what went wrong, and whether another attempt may help."""
    cert = _find(err, ssl.SSLCertVerificationError)
    if cert is not None:
        detail = getattr(cert, "verify_message", None) or _one_line(str(cert))
        return f"TLS certificate verify failed: {_one_line(str(detail))}", False
    if isinstance(err, requests.exceptions.SSLError) or _find(err, ssl.SSLError) is not None:
        found = _find(err, ssl.SSLError)
        detail = (found.strerror if found is not None else None) or str(found or err)
        return f"TLS error: {_one_line(_SSL_LOCATION.sub('', str(detail)))}", False
    if isinstance(err, requests.exceptions.ProxyError):
        return f"proxy error: {_innermost(err)}", True
    if _find(err, ConnectionRefusedError) is not None:
        return "connection refused", True
    if _find(err, urllib3.exceptions.NameResolutionError) is not None:
        return f"cannot resolve host {host} ({_innermost(err)})", True
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return f"timeout after {config.connect_timeout:g} s connecting", True
    if isinstance(err, requests.exceptions.ReadTimeout) or (
        _find(err, urllib3.exceptions.ReadTimeoutError) is not None
    ):
        return f"timeout after {config.read_timeout:g} s waiting for data", True
    if _find(err, http.client.IncompleteRead) is not None or (
        _find(err, urllib3.exceptions.IncompleteRead) is not None
    ):
        return "connection closed before the end of the body", True
    if isinstance(err, requests.exceptions.ChunkedEncodingError) or (
        _find(err, urllib3.exceptions.ProtocolError) is not None
    ):
        return f"connection broken: {_innermost(err)}", True
    if isinstance(err, requests.exceptions.ContentDecodingError):
        deepest = list(_chain(err))[-1]
        return f"cannot decode the compressed body: {_one_line(str(deepest))}", False
    if isinstance(err, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader,
                        ValueError)):
        return f"invalid request: {_innermost(err)}", False
    if isinstance(err, (requests.exceptions.ConnectionError, OSError)):
        return f"connection failed: {_innermost(err)}", True
    return f"request failed: {type(err).__name__}: {_innermost(err)}", False
