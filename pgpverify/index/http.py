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
  exponentially through an injectable ``sleep``.
- One document's whole download (every connect, TLS handshake, header and body read of
  every attempt and redirect; the waits between retries aside) takes at most
  ``total_timeout`` seconds: a per-read timeout alone lets a server that drips one byte per
  read hold a run for hours. A watchdog shuts the connection's socket down at the deadline,
  so a read blocked in the middle of headers or body returns at once. Only the monotonic
  clock (injectable) is read, for that budget; never the wall clock.
- Credentials in a URL (``https://user:token@host/``) are taken off it before requests sees
  it and sent as Basic authentication to that origin only (scheme, host, port), redirects
  included; a redirect's own userinfo is dropped. Responses, errors and redirect targets
  carry URLs without them (:mod:`pgpverify.urls`).
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import http.client
import ipaddress
import os
import re
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, final
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
import urllib3.poolmanager
import urllib3.util.connection

from pgpverify import __version__
from pgpverify.errors import NetworkError, ResponseTooLargeError
from pgpverify.index.fetch import Download, Response
from pgpverify.urls import (
    Credentials,
    origin,
    redact_url,
    split_credentials,
    url_problem,
    without_credentials,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import TracebackType


__all__ = ["HttpConfig", "HttpFetcher"]

_E = TypeVar("_E", bound=BaseException)
_T = TypeVar("_T")

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
    ``backoff_max`` too. ``sleep`` and ``monotonic`` are injectable so tests do not wait.
    ``total_timeout`` (``--timeout``) bounds one document's whole download; the connect and
    read timeouts only bound each step within it.
    """

    #: seconds to establish a TCP connection (within ``total_timeout``)
    connect_timeout: float = 5.0
    #: seconds to wait for each read from the socket (within ``total_timeout``)
    read_timeout: float = 30.0
    #: seconds for one document's whole download: every connect and read of every attempt
    #: and redirect, the waits between retries aside
    total_timeout: float = 60.0
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
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Reject settings that cannot work (they come from the command line)."""
        if self.retries < 0:
            raise ValueError("retries must be >= 0")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must be >= 0")
        if min(self.connect_timeout, self.read_timeout, self.total_timeout) <= 0:
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


class _TooLargeError(_FetchError):
    """The body is larger than the caller's cap (:class:`ResponseTooLargeError`)."""


class _RetryableError(_FetchError):
    """One attempt failed in a way worth another try; ``message`` says how."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@final
class _Budget:
    """The seconds one document may take (``total_timeout``), the waits between retries aside."""

    def __init__(self, config: HttpConfig) -> None:
        self._clock = config.monotonic
        self.total = config.total_timeout
        self._deadline = self._clock() + self.total

    def remaining(self) -> float:
        """Seconds left; 0 or less when spent."""
        return self._deadline - self._clock()

    def pause(self, wait: Callable[[float], None], seconds: float) -> None:
        """Wait ``seconds`` (a backoff) without spending the budget."""
        started = self._clock()
        wait(seconds)
        self._deadline += max(0.0, self._clock() - started)

    def spent(self) -> _FetchError:
        """The error for a document whose budget ran out (never retried)."""
        return _FetchError(
            f"timeout: the download took more than {self.total:g} s in all (--timeout)"
        )


#: the watchdog of the attempt running in this thread, for the connection classes below
_ACTIVE = threading.local()


#: every this many watchdogs, the alarm's heap drops the ones that ended
_ALARM_PRUNE = 256
#: seconds the alarm thread waits, with no attempt running, before it ends
_ALARM_LINGER = 0.05


@final
class _Alarm:
    """One daemon thread that fires every watchdog of the process at its deadline.

    A thread started (and joined) per request cost about half a millisecond of each; this
    one starts on first use, sleeps until the earliest deadline, and ends when no attempt
    has been running for ``_ALARM_LINGER`` seconds (so a run of requests shares it, and
    none is left behind). Watchdogs that ended before their deadline are dropped when they
    come up (a heap with lazy deletion; the ending one wakes the thread when it is first).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._order = 0
        self._thread: threading.Thread | None = None

    def add(self, watchdog: _Watchdog, seconds: float) -> None:
        """Fire ``watchdog`` in ``seconds`` unless it ends first."""
        when = time.monotonic() + max(seconds, 0.0)
        with self._cond:
            if len(self._heap) >= _ALARM_PRUNE and self._order % _ALARM_PRUNE == 0:
                # ended watchdogs wait for their deadline in the heap: drop them now and
                # then, so a long run's heap holds about the attempts still running
                self._heap = [entry for entry in self._heap if not entry[2].ended]
                heapq.heapify(self._heap)
            self._order += 1
            heapq.heappush(self._heap, (when, self._order, watchdog))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pgpverify-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is watchdog:
                self._cond.notify()  # the new deadline is the earliest: wake up sooner

    def ended(self, watchdog: _Watchdog) -> None:
        """``watchdog`` ended: wake the thread if it was waiting for that one's deadline."""
        with self._cond:
            if self._heap and self._heap[0][2] is watchdog:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].ended:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        if not self._cond.wait(_ALARM_LINGER) and not self._heap:
                            self._thread = None  # idle: the next attempt starts another
                            return
                        continue
                    left = self._heap[0][0] - time.monotonic()
                    if left <= 0:
                        due = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(left)
            due.fire()

    def forget(self) -> None:
        """After a fork: the child has no alarm thread (it starts one when needed)."""
        self._cond = threading.Condition(threading.Lock())
        self._heap = []
        self._thread = None


@final
class _Watchdog:
    """Shut down every socket one attempt uses when its time is up.

    The connection classes below attach each socket (new or kept alive) as the attempt
    uses it; the watchdog keeps a duplicate descriptor, so ``shutdown`` reaches the socket
    even after ``ssl`` wrapped it, and a read blocked in another thread returns at once.
    The process's :class:`_Alarm` thread fires it; firing and ending take the same lock, so
    a descriptor is never shut down after the attempt closed it, and a watchdog that ended
    does not fire.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.ended = False
        self._seconds = seconds
        #: time.monotonic() at which the attempt's time is up (set on entry)
        self.deadline = time.monotonic() + max(seconds, 0.0)
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []

    def __enter__(self) -> _Watchdog:
        _ACTIVE.watchdog = self
        self.deadline = time.monotonic() + max(self._seconds, 0.0)
        _ALARM.add(self, self._seconds)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _ACTIVE.watchdog = None
        with self._lock:
            self.ended = True
            watched, self._watched = self._watched, []
        _ALARM.ended(self)
        for sock in watched:
            with contextlib.suppress(OSError):
                sock.close()

    def attach(self, sock: socket.socket) -> None:
        """Watch ``sock`` (through a duplicate of its descriptor) until the attempt ends."""
        try:
            watch = socket.fromfd(sock.fileno(), sock.family, sock.type, sock.proto)
        except (OSError, ValueError):  # already closed
            return
        with self._lock:
            if self.ended:  # cannot happen inside the attempt; never leak the duplicate
                watch.close()
                return
            self._watched.append(watch)
            if self.fired:
                _shutdown(watch)

    def fire(self) -> None:
        """The deadline passed: shut down what the attempt uses (nothing once it ended)."""
        with self._lock:
            if self.ended:
                return
            self.fired = True
            for sock in self._watched:
                _shutdown(sock)


_ALARM = _Alarm()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ALARM.forget)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: socket.socket | None) -> None:
    watchdog: _Watchdog | None = getattr(_ACTIVE, "watchdog", None)
    if watchdog is not None and sock is not None:
        watchdog.attach(sock)


def _lookup(host: str, port: int) -> list[Any]:
    """``socket.getaddrinfo`` for a connection, within the running attempt's budget.

    A name look-up has no socket the watchdog could shut down, and the resolver's own
    timeouts (seconds per server and try) know nothing of ``--timeout``: a slow or hostile
    DNS server would hold the download past its budget. The look-up runs in a daemon
    thread and is waited for only until the attempt's deadline; an address literal is
    resolved at once, without one.
    """
    family = urllib3.util.connection.allowed_gai_family()
    watchdog: _Watchdog | None = getattr(_ACTIVE, "watchdog", None)
    if watchdog is None or _is_address(host):
        return socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    box: list[Any] = []
    done = threading.Event()

    def resolve() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, family, socket.SOCK_STREAM))
        except (OSError, UnicodeError) as err:
            box.append(err)
        finally:
            done.set()

    threading.Thread(target=resolve, name="pgpverify-dns", daemon=True).start()
    if not done.wait(max(watchdog.deadline - time.monotonic(), 0.0)) or not box:
        msg = f"looking up {host} took past the download's time budget"
        raise TimeoutError(msg)
    found = box[0]
    if isinstance(found, BaseException):
        raise found
    result: list[Any] = found
    return result


def _is_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return True
    return False


def _connect(conn: urllib3.connection.HTTPConnection) -> socket.socket:
    """urllib3's ``_new_conn`` with the name look-up under the budget (:func:`_lookup`).

    The same steps as ``urllib3.util.connection.create_connection``: every address the
    name has, in order, until one connects; the same errors as urllib3's own.
    """
    host = getattr(conn, "_dns_host", conn.host)  # urllib3 looks up this spelling
    if host.startswith("["):
        host = host.strip("[]")
    port = conn.port if conn.port is not None else 80
    try:
        addresses = _lookup(host, port)
    except socket.gaierror as err:
        raise urllib3.exceptions.NameResolutionError(conn.host, conn, err) from err
    except TimeoutError as err:
        raise urllib3.exceptions.ConnectTimeoutError(conn, str(err)) from err
    except UnicodeError as err:
        raise urllib3.exceptions.LocationParseError(f"{host!r}: {err}") from err
    last: OSError | None = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if conn.timeout is None or isinstance(conn.timeout, (int, float)):
                sock.settimeout(conn.timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(address)
        except TimeoutError as err:
            sock.close()
            raise urllib3.exceptions.ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            ) from err
        except OSError as err:
            sock.close()
            last = err
            continue
        sys.audit("http.client.connect", conn, conn.host, conn.port)
        return sock
    raise urllib3.exceptions.NewConnectionError(
        conn, f"Failed to establish a new connection: {last or 'no address'}"
    ) from last


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    """urllib3's connection, its socket handed to the running attempt's watchdog."""

    def _new_conn(self) -> socket.socket:
        sock = _connect(self)
        _watch(sock)  # before any TLS handshake: a dripped handshake is cut too
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection: no new socket this time
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    """The same for HTTPS."""

    def _new_conn(self) -> socket.socket:
        sock = _connect(self)
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS: dict[str, type[urllib3.connectionpool.HTTPConnectionPool]] = {
    "http": _WatchedHTTPPool,
    "https": _WatchedHTTPSPool,
}


class _WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter with the watched connections (direct and through HTTP proxies).

    A SOCKS proxy keeps urllib3's own connections: there the budget is checked between
    reads, and each read is bounded by the read timeout.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.poolmanager.ProxyManager:
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


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
        adapter = _WatchedAdapter()
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
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

        ``Response.url`` is the final URL after redirects, without credentials (relative
        links resolve against it). Credentials in ``url`` go to its origin only. Error
        messages name the requested URL, credentials redacted as pip redacts them. The
        whole call, redirects and retries included, takes at most ``total_timeout``
        seconds plus the waits between retries.
        """
        headers: dict[str, str] = {}
        if accept is not None:
            headers["Accept"] = accept
        etag, last_modified = _validator(etag), _validator(last_modified)
        if etag is not None:
            headers["If-None-Match"] = etag
        if last_modified is not None:
            headers["If-Modified-Since"] = last_modified

        def hop(current: str, auth: tuple[str, str] | None, budget: _Budget) -> Response | str:
            return self._attempt(current, headers, max_bytes, auth, budget)

        return self._follow(url, hop)

    def _follow(
        self, url: str, hop: Callable[[str, tuple[str, str] | None, _Budget], _T | str]
    ) -> _T:
        """``hop`` (with retries) from ``url`` along its redirects: what the last hop gives.

        The rules of every request: the URL policy on every hop, credentials to their
        origin only (a redirect's own userinfo is not ours to send), no redirect from HTTPS
        down to plain HTTP unless ``allow_insecure``, at most ``max_redirects``, one budget
        (``total_timeout``) for all of it. Failures are :class:`NetworkError` (or
        :class:`ResponseTooLargeError`) naming ``url``, credentials redacted.
        """
        source = redact_url(url)
        plain, credentials = split_credentials(url)
        home = origin(plain) if credentials is not None else None
        budget = _Budget(self.config)
        current = plain
        try:
            _check_url(current, allow_insecure=self.config.allow_insecure)
            for _ in range(self.config.max_redirects + 1):
                auth = None
                if credentials is not None and origin(current) == home:
                    auth = credentials.as_auth()
                outcome = self._with_retries(budget, functools.partial(hop, current, auth, budget))
                if not isinstance(outcome, str):
                    return outcome
                previous, current = current, without_credentials(outcome)
                _check_url(current, allow_insecure=self.config.allow_insecure)
                if (
                    _scheme(previous) == "https"
                    and _scheme(current) == "http"
                    and not self.config.allow_insecure
                ):
                    raise _FetchError(
                        "refusing a redirect from HTTPS to plain HTTP; use --allow-insecure"
                    )
        except _FetchError as err:
            message = err.message
            if current != plain:
                message = f"redirected to {redact_url(current)}: {message}"
            kind = ResponseTooLargeError if isinstance(err, _TooLargeError) else NetworkError
            raise kind(_scrub(message, credentials), source=source) from None
        raise NetworkError(
            f"too many redirects (more than {self.config.max_redirects})", source=source
        )

    # -- one hop ------------------------------------------------------------------------

    def _with_retries(self, budget: _Budget, attempt_once: Callable[[], _T]) -> _T:
        """One hop with retries: ``attempt_once`` again after each _RetryableError.

        The waits between attempts come out of the document's budget like the attempts.
        """
        attempts = self.config.retries + 1
        attempt = 0
        while True:
            try:
                return attempt_once()
            except _RetryableError as err:  # noqa: PERF203 - one try per network attempt
                if attempt + 1 >= attempts:
                    suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
                    raise _FetchError(f"{err.message}{suffix}") from None
                budget.pause(self.config.sleep, self.config.delay(attempt, err.retry_after))
                attempt += 1

    def _attempt(
        self,
        url: str,
        headers: dict[str, str],
        max_bytes: int,
        auth: tuple[str, str] | None,
        budget: _Budget,
    ) -> Response | str:
        """One request: a Response, a redirect target, or _RetryableError / _FetchError."""
        config = self.config
        left = budget.remaining()
        if left <= 0:
            raise budget.spent()
        # Each step's own timeout, cut to what is left of the document's budget; the
        # watchdog cuts a step that keeps trickling (one byte per read) at the deadline.
        timeout = (min(config.connect_timeout, left), min(config.read_timeout, left))
        watchdog = _Watchdog(left)
        try:
            with (
                watchdog,
                self._session.get(
                    url,
                    headers=headers,
                    auth=auth,
                    stream=True,
                    allow_redirects=False,
                    timeout=timeout,
                    verify=config.ca_bundle if config.ca_bundle is not None else True,
                ) as answer,
            ):
                outcome = self._read(url, answer, max_bytes, budget)
            if watchdog.fired:
                # the socket was shut down: what arrived may be cut short (a header block
                # ended by EOF reads as complete), so nothing from this attempt counts
                raise budget.spent()
        except _FetchError:
            raise
        except _TRANSPORT_ERRORS as err:
            raise _attempt_failed(
                err, url, watchdog=watchdog, budget=budget, left=left, config=config
            ) from None
        return outcome

    def _read(
        self, url: str, answer: requests.Response, max_bytes: int, budget: _Budget
    ) -> Response | str:
        target = _redirect_target(url, answer)
        if target is not None:
            return target
        status = answer.status_code
        if status in _ANSWER_STATUSES:
            return Response(url=url, status=status)
        if status == 304:
            return Response(
                url=url,
                status=304,
                etag=_validator(answer.headers.get("ETag")),
                last_modified=_validator(answer.headers.get("Last-Modified")),
                max_age=max_age(answer.headers.get("Cache-Control")),
            )
        if status != 200:
            raise _FetchError(f"HTTP {status} {_reason(answer)}")
        announced = _content_length(answer.headers.get("Content-Length"))
        if announced is not None and announced > max_bytes:
            raise _TooLargeError(
                f"response larger than {max_bytes} bytes (Content-Length: {announced})"
            )
        body = bytearray()
        for chunk in answer.iter_content(chunk_size=min(_CHUNK, max_bytes + 1)):
            body += chunk
            if len(body) > max_bytes:
                # the context manager closes the connection: it is not reused
                raise _TooLargeError(f"response larger than {max_bytes} bytes")
            if budget.remaining() <= 0:
                raise budget.spent()
        return Response(
            url=url,
            status=200,
            body=bytes(body),
            content_type=answer.headers.get("Content-Type"),
            etag=_validator(answer.headers.get("ETag")),
            last_modified=_validator(answer.headers.get("Last-Modified")),
            max_age=max_age(answer.headers.get("Cache-Control")),
        )

    # -- streaming (a distribution file, read once and not kept) ---------------------------

    @contextlib.contextmanager
    def stream(self, url: str, *, max_bytes: int) -> Iterator[Download]:
        """GET ``url`` for reading as it arrives: a :class:`Download` (200, 404 or 410).

        The rules of :meth:`get` hold: the URL policy on every hop, credentials to their
        origin only, retries until the body starts (never after: what was read is
        consumed), one deadline (``total_timeout``) for the whole download, reads
        included, and the cap, checked against Content-Length and counted as the body is
        read (:class:`ResponseTooLargeError`). Reading raises NetworkError, never another
        exception, and a body cut short is an error, never an end.
        """
        with contextlib.ExitStack() as held:

            def hop(current: str, auth: tuple[str, str] | None, budget: _Budget) -> Download | str:
                return self._open(current, max_bytes, auth, budget, held)

            outcome = self._follow(url, hop)
            if isinstance(outcome.body, _HttpBody):
                outcome.body.name(redact_url(url), split_credentials(url)[1])
            yield outcome

    def _open(
        self,
        url: str,
        max_bytes: int,
        auth: tuple[str, str] | None,
        budget: _Budget,
        held: contextlib.ExitStack,
    ) -> Download | str:
        """One request; a 200 leaves its watchdog and connection open in ``held``."""
        config = self.config
        left = budget.remaining()
        if left <= 0:
            raise budget.spent()
        timeout = (min(config.connect_timeout, left), min(config.read_timeout, left))
        watchdog = _Watchdog(left)
        try:
            with contextlib.ExitStack() as attempt:
                attempt.enter_context(watchdog)
                answer = attempt.enter_context(
                    self._session.get(
                        url,
                        auth=auth,
                        stream=True,
                        allow_redirects=False,
                        timeout=timeout,
                        verify=config.ca_bundle if config.ca_bundle is not None else True,
                    )
                )
                outcome = self._head(url, answer, max_bytes)
                if watchdog.fired:
                    raise budget.spent()
                if isinstance(outcome, Download) and outcome.found:
                    body = _HttpBody(
                        answer.iter_content(chunk_size=_CHUNK),
                        watchdog,
                        budget,
                        max_bytes,
                        self.config,
                        urlsplit(url).hostname or "?",
                    )
                    outcome = Download(url=url, status=200, body=body)
                    held.push(attempt.pop_all())  # open until the caller is done reading
        except _FetchError:
            raise
        except _TRANSPORT_ERRORS as err:
            raise _attempt_failed(
                err, url, watchdog=watchdog, budget=budget, left=left, config=config
            ) from None
        return outcome

    @staticmethod
    def _head(url: str, answer: requests.Response, max_bytes: int) -> Download | str:
        """What the status and headers say: a Download (body unread) or a redirect target."""
        target = _redirect_target(url, answer)
        if target is not None:
            return target
        status = answer.status_code
        if status in _ANSWER_STATUSES:
            return Download(url=url, status=status)
        if status != 200:
            raise _FetchError(f"HTTP {status} {_reason(answer)}")
        announced = _content_length(answer.headers.get("Content-Length"))
        if announced is not None and announced > max_bytes:
            raise _TooLargeError(
                f"response larger than {max_bytes} bytes (Content-Length: {announced})"
            )
        return Download(url=url, status=200)


def _redirect_target(url: str, answer: requests.Response) -> str | None:
    """Where a redirect points (None: not a redirect); a status worth retrying raises."""
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
    return None


#: what a request can raise on the way (requests, urllib3, http.client, sockets, bad input)
_TRANSPORT_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,
)


def _attempt_failed(
    err: BaseException,
    url: str,
    *,
    watchdog: _Watchdog,
    budget: _Budget,
    left: float,
    config: HttpConfig,
) -> _FetchError:
    """The error one attempt ends with: the budget spent, retryable, or final."""
    if watchdog.fired or budget.remaining() <= 0 or _cut_by_budget(err, left, config):
        return budget.spent()
    message, retryable = _describe(err, config, urlsplit(url).hostname or "?")
    return _RetryableError(message) if retryable else _FetchError(message)


@final
class _HttpBody:
    """A streamed body's ``read``: counted against the cap and the download's deadline.

    Every failure is a NetworkError naming the URL (credentials scrubbed); an end that the
    watchdog caused (a socket shut down at the deadline reads as an end) is a timeout.
    """

    def __init__(  # noqa: PLR0917
        self,
        chunks: Iterator[bytes],
        watchdog: _Watchdog,
        budget: _Budget,
        max_bytes: int,
        config: HttpConfig,
        host: str,
    ) -> None:
        self._chunks = chunks
        self._watchdog = watchdog
        self._budget = budget
        self._max = max_bytes
        self._config = config
        self._host = host
        self._count = 0
        self._pending = memoryview(b"")
        self._source = ""
        self._credentials: Credentials | None = None

    def name(self, source: str, credentials: Credentials | None) -> None:
        """The URL errors name, and the credentials to scrub from their messages."""
        self._source, self._credentials = source, credentials

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (the rest, within the cap, when negative); b"" at the end."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(_CHUNK), b""))
        while not self._pending:
            chunk = self._next()
            if chunk is None:
                return b""
            self._pending = memoryview(chunk)
        data = bytes(self._pending[:size])
        self._pending = self._pending[size:]
        return data

    def _next(self) -> bytes | None:
        try:
            chunk = next(self._chunks, None)
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            OSError,
            ValueError,
        ) as err:
            if self._watchdog.fired or self._budget.remaining() <= 0:
                raise self._fail(self._budget.spent().message) from None
            raise self._fail(_describe(err, self._config, self._host)[0]) from None
        if self._watchdog.fired or self._budget.remaining() <= 0:
            raise self._fail(self._budget.spent().message)
        if chunk is None:
            return None
        self._count += len(chunk)
        if self._count > self._max:
            raise ResponseTooLargeError(
                f"response larger than {self._max} bytes", source=self._source
            )
        return chunk

    def _fail(self, message: str) -> NetworkError:
        return NetworkError(_scrub(message, self._credentials), source=self._source)


# -- helpers ----------------------------------------------------------------------------


def max_age(cache_control: str | None) -> float | None:
    """Seconds a response stays fresh by its ``Cache-Control`` (RFC 9111 §5.2.2), or None.

    ``max-age=N`` (a non-negative integer) gives N, as pip's HTTP cache reads it;
    ``no-cache`` or ``no-store`` anywhere, a missing, repeated or malformed ``max-age``
    give None (revalidate every time). ``s-maxage`` is for shared caches, not this one.
    """
    if not cache_control:
        return None
    seen: list[str] = []
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-cache", "no-store"):
            return None
        if name == "max-age":
            seen.append(value.strip().strip('"'))
    if len(seen) != 1 or not seen[0].isascii() or not seen[0].isdigit() or len(seen[0]) > 10:
        return None
    return float(int(seen[0]))


def _check_url(url: str, *, allow_insecure: bool) -> None:
    """Apply the URL policy before any traffic: scheme, host, plain HTTP to loopback."""
    problem = url_problem(url)
    if problem is not None:
        raise _FetchError(_one_line(problem))
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme.lower() == "http" and not allow_insecure and not _is_loopback(host):
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


def _scrub(message: str, credentials: Credentials | None) -> str:
    """``message`` with the request's secret masked, wherever a library may have put it."""
    if credentials is not None:
        for secret in credentials.secrets():
            message = message.replace(secret, "****")
    return message


def _cut_by_budget(err: BaseException, left: float, config: HttpConfig) -> bool:
    """Whether ``err`` is a step's timeout that the budget (``left`` s) had shortened.

    urllib3's NewConnectionError (a refused or unreachable connection) subclasses its
    ConnectTimeoutError for old callers: no timeout, so never the budget's.
    """
    if not isinstance(err, requests.exceptions.Timeout) and not any(
        isinstance(item, (urllib3.exceptions.TimeoutError, TimeoutError))
        and not isinstance(item, urllib3.exceptions.NewConnectionError)
        for item in _chain(err)
    ):
        return False
    connecting = isinstance(err, requests.exceptions.ConnectTimeout)
    return left < (config.connect_timeout if connecting else config.read_timeout)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(answer: requests.Response) -> str:
    return _one_line(answer.reason or "", _MAX_REASON)


#: Longest ETag or Last-Modified kept to send back (real ones are under 100 characters).
_MAX_VALIDATOR = 256


def _validator(value: str | None) -> str | None:
    """A validator (ETag, Last-Modified) worth remembering and sending back, else None.

    Only printable ASCII up to :data:`_MAX_VALIDATOR` characters (RFC 9110 §8.8): a
    server that once sent a huge or binary one must not make every later conditional
    request fail (a 431 from the fixed server, a header requests refuses) for as long as
    the cache holds it. Without a validator the document is simply fetched again.
    """
    if value is None or len(value) > _MAX_VALIDATOR:
        return None
    value = value.strip()
    if not value or not all(" " <= c <= "~" for c in value):
        return None
    return value


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
    if isinstance(
        err,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidHeader,
            ValueError,
        ),
    ):
        return f"invalid request: {_innermost(err)}", False
    if isinstance(err, (requests.exceptions.ConnectionError, OSError)):
        return f"connection failed: {_innermost(err)}", True
    return f"request failed: {type(err).__name__}: {_innermost(err)}", False
