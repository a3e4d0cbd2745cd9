"""``install`` in one pip pass: pip's only index is a gate pgpverify serves on 127.0.0.1.

pip runs ``pip install -r REQUIREMENTS --index-url http://127.0.0.1:PORT/TOKEN/simple/``
and resolves, downloads and installs as it always does; the gate answers it:

- ``/TOKEN/simple/<project>/``: the upstream index's page for the project (read with the
  index client and its cache), rewritten as PEP 503 HTML whose every link points back to
  the gate with the upstream sha256 (``#sha256=``), ``data-requires-python`` and
  ``data-yanked`` kept; only distribution files of that project with a sane name are
  listed (no link to another host, no core-metadata, no ``.asc``).
- ``/TOKEN/files/<project>/<file>``: the file is downloaded from upstream, then checked
  with ``check``'s own per-file code (:class:`~pgpverify.check.run.FileChecker`); only a
  file that passes is served. On the first file (or page) that does not pass, pip is
  killed *before* it gets an answer: pip downloads every distribution before it installs
  any, and it is waiting for this one, so nothing is installed.
- anything else is 404; requests are bounded (path length, no body, GET only).

Every index and cache access happens in the thread that runs :meth:`Gate.serve` (the
client and its cache are not shared across threads); the HTTP handler threads only wait
for results. To keep the check off pip's critical path, each page served is followed by a
prefetch (download and check) of the file pip will most likely pick, and the top-level
requirements are prefetched before pip asks, while pip starts.

What pip may be given, and how it is started, is :mod:`pgpverify.check.gatepip`.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import html
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from packaging.utils import canonicalize_name

from pgpverify.check.gatepip import kill_pip
from pgpverify.check.model import DISTRIBUTION_SUFFIXES, FileCheck, Status
from pgpverify.errors import IndexResponseError, InputError, PgpVerifyError
from pgpverify.index.files import ProjectPage

if TYPE_CHECKING:
    import socket
    import subprocess
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from packaging.tags import Tag

    from pgpverify.check.gatepip import Listener, TopRequirement
    from pgpverify.check.run import FileChecker
    from pgpverify.index.client import IndexClient
    from pgpverify.index.simple import ProjectFile

__all__ = ["FileStore", "Gate", "likely_file", "render_page", "servable"]

#: the largest distribution file the gate downloads (counted as it streams)
MAX_FILE_BYTES = 512 << 20
#: a downloaded file is held in memory up to this size (a larger one goes to disk) ...
MEMORY_FILE_BYTES = 32 << 20
#: ... while all the files held in one run stay under this
MEMORY_TOTAL_BYTES = 256 << 20
#: the most the file store keeps (the oldest files removed after a run that adds some)
STORE_BYTES = 1 << 30
#: a request path longer than this is refused (414)
MAX_PATH = 2048
#: seconds between ``100 Continue`` interim answers while pip waits for a check: each one
#: restarts pip's read timeout (15 s by default), so a slow check never looks like a hang
HEARTBEAT = 5.0
_CHUNK = 1 << 16

# -- pages -------------------------------------------------------------------------------

#: a file name the gate serves: no separator, no leading dot, no parent step
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+!~-]{0,254}", re.ASCII)
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
#: longest ``requires-python`` or yank reason passed on (longer ones are cut or dropped)
_MAX_ATTRIBUTE = 1024
_HTML_TYPE = "text/html; charset=utf-8"


def servable(page: ProjectPage) -> dict[str, ProjectFile]:
    """The entries of ``page`` the gate lists, by file name (the first of a name wins).

    Only distribution files of the page's own project whose name is a plain file name.
    """
    out: dict[str, ProjectFile] = {}
    for entry in page.files:
        name = entry.filename
        if name in out or not _FILENAME.fullmatch(name) or ".." in name:
            continue
        if not name.lower().endswith(DISTRIBUTION_SUFFIXES):
            continue
        try:
            project, _ = _name_and_version(name)
        except PgpVerifyError:
            continue
        if project == page.project:
            out[name] = entry
    return out


def render_page(project: str, entries: Mapping[str, ProjectFile], files_path: str) -> bytes:
    """PEP 503 HTML listing ``entries``, each linked under ``files_path`` (an absolute path).

    The upstream sha256 goes in the link's fragment (when it is 64 hex digits), with
    ``data-requires-python`` and ``data-yanked`` as the index gave them, escaped.
    """
    lines = [
        "<!DOCTYPE html>",
        '<html><head><meta name="pypi:repository-version" content="1.0">',
        f"<title>Links for {html.escape(project)}</title></head><body>",
    ]
    for name, entry in entries.items():
        href = f"{files_path}{quote(project)}/{quote(name)}"
        if entry.sha256 is not None and _SHA256.fullmatch(entry.sha256):
            href += f"#sha256={entry.sha256}"
        attrs = f'href="{html.escape(href)}"'
        requires = entry.requires_python
        if requires is not None and len(requires) <= _MAX_ATTRIBUTE:
            attrs += f' data-requires-python="{html.escape(requires)}"'
        if entry.yanked is not None:
            attrs += f' data-yanked="{html.escape(entry.yanked[:_MAX_ATTRIBUTE])}"'
        lines.append(f"<a {attrs}>{html.escape(name)}</a><br>")
    lines.append("</body></html>\n")
    return "\n".join(lines).encode("utf-8")


def likely_file(
    entries: Mapping[str, ProjectFile],
    *,
    tags: Mapping[Tag, int],
    python: str,
    specifier: str = "",
) -> ProjectFile | None:
    """The file pip will most likely pick: pip's order, roughly, for a prefetch.

    The newest version the specifier allows (no pre-release unless it asks for one), not
    yanked, whose ``requires-python`` admits ``python``; a wheel for one of ``tags`` (rank
    = position in ``packaging.tags.sys_tags()``, lower first) before the sdist.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename
    from packaging.version import InvalidVersion, Version

    best: tuple[Any, ...] | None = None
    chosen = None
    try:
        wanted = SpecifierSet(specifier)
    except InvalidSpecifier:
        wanted = SpecifierSet()
    for name, entry in entries.items():
        if entry.yanked is not None:
            continue
        try:
            if entry.requires_python and not SpecifierSet(entry.requires_python).contains(
                python, prereleases=True
            ):
                continue
            version = Version(_name_and_version(name)[1])
            rank = 1 << 30
            if name.endswith(".whl"):
                file_tags = parse_wheel_filename(name)[3]
                rank = min((tags[t] for t in file_tags if t in tags), default=-1)
                if rank < 0:
                    continue
        except (InvalidSpecifier, InvalidVersion, InvalidWheelFilename, PgpVerifyError):
            continue
        if not wanted.contains(version, prereleases=True) or (
            version.is_prerelease and not wanted.prereleases
        ):
            continue
        key = (version, -rank)
        if best is None or key > best:
            best, chosen = key, entry
    return chosen


# -- the gate ------------------------------------------------------------------------------


class FileStore:
    """Distribution files kept between runs, named by their sha256 (``<cache>/files/``).

    pip's warm cache downloads no file again; without this the gate would download every
    file at every run. Content-addressed: a file is used only for an index entry that
    gives that sha256, and its bytes are hashed again when read (one that does not match
    is removed, and the file downloaded). Written without ``fsync``: a torn file fails
    that check. Bounded: files up to ``MEMORY_FILE_BYTES``, at most ``max_bytes`` in all
    (after a run that added files, the oldest are removed). A store that cannot be read or
    written is no error: the file is downloaded.
    """

    def __init__(self, directory: Path, *, max_bytes: int = STORE_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._added = 0

    def get(self, sha256: str) -> bytes | None:
        """The file whose sha256 is ``sha256`` (lower-case hex), or None."""
        if not _SHA256.fullmatch(sha256):
            return None
        path = self.directory / sha256
        try:
            with path.open("rb") as stream:
                data = stream.read(MEMORY_FILE_BYTES + 1)
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return data

    def put(self, sha256: str, data: bytes) -> None:
        """Keep ``data`` (whose sha256 the caller computed) unless it is too large."""
        if not _SHA256.fullmatch(sha256) or len(data) > MEMORY_FILE_BYTES:
            return
        import tempfile

        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.directory)
            try:
                with open(fd, "wb") as stream:  # noqa: PTH123 - a descriptor from mkstemp
                    stream.write(data)
                os.replace(name, self.directory / sha256)  # noqa: PTH105 - atomic rename
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(name)  # noqa: PTH108 - mkstemp hands back a str
                raise
        except OSError:
            return
        self._added += 1

    def prune(self) -> None:
        """After a run that added files: remove the oldest until ``max_bytes`` holds."""
        if not self._added:
            return
        try:
            with os.scandir(self.directory) as listing:
                files = [
                    (entry.stat().st_mtime, entry.stat().st_size, entry.path)
                    for entry in listing
                    if entry.is_file(follow_symlinks=False)
                ]
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)  # noqa: PTH108 - scandir hands back a str
                total -= size


@dataclass(slots=True)
class _Listing:
    """A project page as the gate serves it."""

    page: ProjectPage
    entries: dict[str, ProjectFile]
    body: bytes


@dataclass(slots=True)
class _Served:
    """A checked file: its verdict and, when it passed, its bytes (held, or on disk)."""

    verdict: FileCheck
    path: Path | None
    data: bytes | None = None

    @property
    def servable(self) -> bool:
        return self.verdict.passed and (self.path is not None or self.data is not None)


@dataclass(slots=True, eq=False)
class _Task:
    """One unit of index work, run once in the serving thread; handlers wait for it."""

    key: tuple[str, ...]
    run: Callable[[], object]
    done: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    result: object = None


class Gate:
    """The gating index: :meth:`serve` pip until it ends, then :meth:`report`.

    ``client`` reads the upstream index (its limits bound every page and signature);
    ``checker`` judges each file (both used only in the thread that calls :meth:`serve`).
    Files too large to hold in memory are downloaded into ``download_dir``; ``store``
    keeps files between runs (:class:`FileStore`).
    """

    def __init__(
        self,
        client: IndexClient,
        checker: FileChecker,
        *,
        listener: Listener,
        download_dir: Path,
        store: FileStore | None = None,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self._client = client
        self._store = store
        self._checker = checker
        self._download_dir = download_dir
        self._heartbeat = heartbeat
        self._token = listener.token
        self._socket = listener.socket
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[tuple[int, int, int, _Task]] = []
        self._tasks: dict[tuple[str, ...], _Task] = {}
        self._ranks: dict[str, int] = {}
        self._specifiers: dict[str, str] = {}
        self._seq = 0
        self._held = 0
        self._over = False
        self._stop: Callable[[], None] | None = None
        #: what pip fetched, in order: (file name or page URL) -> verdict
        self._fetched: dict[str, FileCheck] = {}
        #: the first verdict that stopped pip, if any
        self.stopped: FileCheck | None = None
        self._tags: dict[Tag, int] | None = None

    @property
    def files_path(self) -> str:
        """The path prefix of file links on served pages."""
        return f"/{self._token}/files/"

    # -- the serving thread ------------------------------------------------------------

    def prefetch(self, requirements: Sequence[TopRequirement]) -> None:
        """Queue the top-level requirements' pages and likely files before pip asks."""
        with self._lock:
            for requirement in requirements:
                self._rank(requirement.name)
                self._specifiers.setdefault(requirement.name, requirement.specifier)
        for requirement in requirements:
            self._page_task(requirement.name, urgent=False)

    def serve(self, process: subprocess.Popen[bytes]) -> int:
        """Answer pip until ``process`` ends; returns its exit status.

        Runs the index work in this thread; HTTP connections are handled in threads of
        their own. On the first verdict that does not pass, ``process`` (and its process
        group, where there is one) is killed before pip gets an answer.
        """
        self._stop = lambda: kill_pip(process)
        # pip's requests are answered by handler threads while this one checks files:
        # a 1 ms switch interval (5 ms by default) lets them have the GIL sooner
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.001))
        server = _Server(self._socket, self)
        threads = [
            # polls every 5 ms: shutting the server down waits for one poll at most
            threading.Thread(target=server.serve_forever, args=(0.005,), daemon=True),
            threading.Thread(target=self._wait_for, args=(process,), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            self._work()
        finally:
            with self._lock:
                self._over = True
                for task in self._tasks.values():
                    task.done.set()
            server.shutdown()
            kill_pip(process)
            sys.setswitchinterval(switch)
        return process.wait()

    def _wait_for(self, process: subprocess.Popen[bytes]) -> None:
        process.wait()
        with self._lock:
            self._over = True
            self._wake.notify_all()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._over:
                    self._wake.wait()
                if self._over:
                    return
                task = heapq.heappop(self._queue)[3]
                if task.started:
                    continue
                task.started = True
            try:
                task.result = task.run()
            except Exception as err:  # noqa: BLE001 - a handler must never wait forever
                task.result = PgpVerifyError(f"internal error ({type(err).__name__}: {err})")
            task.done.set()

    def _rank(self, project: str) -> int:
        return self._ranks.setdefault(project, len(self._ranks))

    def _submit(self, key: tuple[str, ...], run: Callable[[], object], *, urgent: bool) -> _Task:
        """The task for ``key`` (made once), queued; ``urgent`` puts it before prefetches."""
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = _Task(key, run)
            elif task.started or not urgent:
                return task
            self._seq += 1
            entry = (0 if urgent else 1, self._rank(key[1]), self._seq, task)
            heapq.heappush(self._queue, entry)
            self._wake.notify()
        return task

    def _page_task(self, project: str, *, urgent: bool) -> _Task:
        return self._submit(("page", project), lambda: self._load_page(project), urgent=urgent)

    def _load_page(self, project: str) -> _Listing | FileCheck:
        """(serving thread) the upstream page, rewritten; then the likely file's prefetch."""
        try:
            page = ProjectPage.fetch(self._client, project)
        except PgpVerifyError as err:
            return FileCheck(
                file=self._client.page_url(project),
                status=Status.ERROR,
                reason="error",
                message=str(err),
                project=project,
            )
        entries = servable(page)
        listing = _Listing(page, entries, render_page(project, entries, self.files_path))
        likely = likely_file(
            entries,
            tags=self._sys_tags(),
            python=".".join(map(str, sys.version_info[:3])),
            specifier=self._specifiers.get(project, ""),
        )
        if likely is not None:
            self._file_task(listing, likely.filename, urgent=False)
        return listing

    def _sys_tags(self) -> dict[Tag, int]:
        if self._tags is None:
            from packaging.tags import sys_tags

            self._tags = {tag: rank for rank, tag in enumerate(sys_tags())}
        return self._tags

    def _file_task(self, listing: _Listing, filename: str, *, urgent: bool) -> _Task:
        project = listing.page.project
        return self._submit(
            ("file", project, filename), lambda: self._check_file(listing, filename), urgent=urgent
        )

    def _check_file(self, listing: _Listing, filename: str) -> _Served:
        """(serving thread) download ``filename`` from upstream, then check it."""
        entry = listing.entries[filename]
        path = self._download_dir / filename
        try:
            sha256, data, path = self._download(entry, listing.page.url, path)
        except PgpVerifyError as err:
            return _Served(_error(path, err, listing.page.project, filename), None)
        except OSError as err:
            failure = InputError(f"cannot save the download: {err.strerror or err}")
            return _Served(_error(path, failure, listing.page.project, filename), None)
        verdict = self._checker.check(path, listing.page, sha256, data)
        if not verdict.passed:
            return _Served(verdict, None)
        return _Served(verdict, path if data is None else None, data)

    def _download(
        self, entry: ProjectFile, page_url: str, path: Path
    ) -> tuple[str, bytes | None, Path]:
        """(sha256, the bytes when held in memory, where they are otherwise).

        A file the store holds under the sha256 the index gives is not downloaded again.
        A file is held in memory while it fits ``MEMORY_FILE_BYTES`` and the run's
        ``MEMORY_TOTAL_BYTES``; a larger one goes to disk, into a directory of its own
        (names that differ only in case must not meet on a case-insensitive disk).
        """
        listed = entry.sha256 if entry.sha256 and _SHA256.fullmatch(entry.sha256) else None
        if self._store is not None and listed is not None:
            stored = self._store.get(listed)
            if stored is not None and self._hold(len(stored), len(stored)):
                return listed, stored, path
        sha256, data, path = self._fetch(entry, page_url, path)
        if self._store is not None and data is not None and sha256 == listed:
            self._store.put(sha256, data)
        return sha256, data, path

    def _fetch(
        self, entry: ProjectFile, page_url: str, path: Path
    ) -> tuple[str, bytes | None, Path]:
        digest = hashlib.sha256()
        held: list[bytes] = []
        size = 0
        out: IO[bytes] | None = None
        with (
            contextlib.ExitStack() as stack,
            self._client.stream_listed(
                entry.url, page=page_url, max_bytes=MAX_FILE_BYTES
            ) as download,
        ):
            if not download.found:
                raise IndexResponseError(
                    "the index lists this file but does not serve it", source=entry.url
                )
            while chunk := download.body.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if out is None and not self._hold(len(chunk), size):
                    path = self._disk_path(path.name)
                    out = stack.enter_context(path.open("xb"))
                    out.write(b"".join(held))
                    held = []
                if out is None:
                    held.append(chunk)
                else:
                    out.write(chunk)
        return digest.hexdigest(), None if out is not None else b"".join(held), path

    def _hold(self, more: int, size: int) -> bool:
        """Whether ``more`` bytes of a file of ``size`` so far may be held (then counted)."""
        with self._lock:
            if size > MEMORY_FILE_BYTES or self._held + more > MEMORY_TOTAL_BYTES:
                return False
            self._held += more
            return True

    def _disk_path(self, filename: str) -> Path:
        with self._lock:
            self._seq += 1
            folder = self._download_dir / str(self._seq)
        folder.mkdir()
        return folder / filename

    # -- handler threads ---------------------------------------------------------------

    def answer(self, path: str, wait: Callable[[threading.Event], bool]) -> _Answer:
        """What to send for a GET of ``path`` (called in a handler thread).

        ``wait(event)`` blocks until ``event`` is set; it returns False when the wait is
        given up (pip went away).
        """
        parts = path.split("/")
        if len(parts) < 5 or parts[0] or parts[1] != self._token:
            return _Answer(404)
        if parts[2] == "simple" and len(parts) == 5 and parts[4] == "":
            return self._answer_page(unquote(parts[3]), wait)
        if parts[2] == "files" and len(parts) == 5:
            return self._answer_file(unquote(parts[3]), unquote(parts[4]), wait)
        return _Answer(404)

    def _answer_page(self, project: str, wait: Callable[[threading.Event], bool]) -> _Answer:
        if not _FILENAME.fullmatch(project) or canonicalize_name(project) != project:
            return _Answer(404)
        task = self._page_task(project, urgent=True)
        if not wait(task.done) or task.result is None:  # None: pip ended first
            return _Answer(503)
        result = task.result
        if isinstance(result, _Listing):
            return _Answer(200, _HTML_TYPE, result.body)
        verdict = (
            result
            if isinstance(result, FileCheck)
            else _error(self._client.page_url(project), _as_error(result), project, None)
        )
        return self._refuse(verdict.file, verdict)

    def _answer_file(
        self, project: str, filename: str, wait: Callable[[threading.Event], bool]
    ) -> _Answer:
        with self._lock:
            page = self._tasks.get(("page", project))
        listing = page.result if page is not None and page.done.is_set() else None
        if not isinstance(listing, _Listing) or filename not in listing.entries:
            return _Answer(404)
        task = self._file_task(listing, filename, urgent=True)
        if not wait(task.done) or task.result is None:
            return _Answer(503)
        served = task.result
        if not isinstance(served, _Served):
            path = self._download_dir / filename
            served = _Served(_error(path, _as_error(served), project, filename), None)
        if not served.servable:
            return self._refuse(filename, served.verdict)
        with self._lock:
            self._fetched.setdefault(filename, served.verdict)
        return _Answer(200, "application/octet-stream", served.data or b"", served.path)

    def _refuse(self, key: str, verdict: FileCheck) -> _Answer:
        """A verdict that does not pass: pip is stopped first, then answered 403."""
        with self._lock:
            self._fetched.setdefault(key, verdict)
            if self.stopped is None:
                self.stopped = verdict
            stop = self._stop
        if stop is not None:
            stop()
        return _Answer(403)

    def report(self) -> tuple[FileCheck, ...]:
        """Every file (and failed page) pip fetched, by name."""
        with self._lock:
            return tuple(self._fetched[k] for k in sorted(self._fetched))

    def keep(self, dest: Path) -> list[str]:
        """Write the files pip fetched that passed into ``dest`` (``--dest``); their names.

        InputError when the directory or a file cannot be written.
        """
        import shutil

        with self._lock:
            tasks = [t for t in self._tasks.values() if t.key[0] == "file" and t.done.is_set()]
            names = set(self._fetched)
        kept = []
        try:
            dest.mkdir(parents=True, exist_ok=True)
            for task in tasks:
                served = task.result
                if not isinstance(served, _Served) or not served.servable:
                    continue
                if task.key[2] not in names:
                    continue
                if served.path is not None:
                    shutil.copyfile(served.path, dest / task.key[2])
                else:
                    (dest / task.key[2]).write_bytes(served.data or b"")
                kept.append(task.key[2])
        except OSError as err:
            raise InputError(
                f"cannot keep the downloads: {err.strerror or err}", source=str(dest)
            ) from None
        return sorted(kept)


def _name_and_version(filename: str) -> tuple[str, str]:
    """(normalized project, version) from a distribution file name (InputError if none)."""
    from pgpverify.index.client import project_from_filename

    return project_from_filename(filename)


def _as_error(result: object) -> PgpVerifyError:
    if isinstance(result, PgpVerifyError):
        return result
    return PgpVerifyError("the check did not finish (pip ended first)")


def _error(path: Path | str, err: PgpVerifyError, project: str, filename: str | None) -> FileCheck:
    version = None
    if filename is not None:
        with contextlib.suppress(PgpVerifyError):
            version = _name_and_version(filename)[1]
    return FileCheck(
        file=str(path),
        status=Status.ERROR,
        reason="error",
        message=str(err),
        project=project,
        version=version,
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    content_type: str = "text/plain; charset=utf-8"
    body: bytes = b""
    file: Path | None = None


def _handler_class() -> type[Any]:
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        server: Any

        def do_GET(self) -> None:
            if len(self.path) > MAX_PATH:
                self._send(_Answer(414))
                return
            if self.headers.get("Content-Length", "0") != "0" or self.headers.get(
                "Transfer-Encoding"
            ):
                self.close_connection = True
                self._send(_Answer(400))
                return
            self._send(self.server.gate.answer(self.path.split("?", 1)[0], self._wait))

        def _wait(self, event: threading.Event) -> bool:
            heartbeat = self.server.gate._heartbeat  # noqa: SLF001
            while not event.wait(heartbeat):
                if self.request_version != "HTTP/1.1":
                    continue
                try:
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                except OSError:
                    return False
            return True

        def _send(self, answer: _Answer) -> None:
            size = answer.file.stat().st_size if answer.file is not None else len(answer.body)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(size))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if answer.file is None:
                self.wfile.write(answer.body)
                return
            with answer.file.open("rb") as stream:
                while chunk := stream.read(_CHUNK):
                    self.wfile.write(chunk)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: pip's output says what it fetched."""

    return Handler


class _Server:
    """A threading HTTP server around the gate's already listening socket."""

    def __init__(self, sock: socket.socket, gate: Gate) -> None:
        from http.server import ThreadingHTTPServer

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: object, client_address: object) -> None:
                """Quiet: a connection pip dropped (or that was killed) is no error of ours."""

        self._server = Server(sock.getsockname(), _handler_class(), bind_and_activate=False)
        self._server.socket.close()
        self._server.socket = sock
        self._server.gate = gate  # type: ignore[attr-defined]

    def serve_forever(self, poll_interval: float) -> None:
        self._server.serve_forever(poll_interval)

    def shutdown(self) -> None:
        self._server.shutdown()
