"""Read the index's ``pgp/`` tree and project pages (layout: index-layout.md).

The client turns documents into checked trust inputs: an ownership record (JSON, type
checked), the keys it lists (each key file must hold exactly the certificate its name
says), and a file's detached signature found through its project page. "Not found" is an
answer and is reported as such; a server that does not answer is a
:class:`pgpverify.errors.NetworkError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from pgpverify.errors import IndexResponseError, InputError, OwnersError, PgpVerifyError
from pgpverify.index.fetch import open_stream
from pgpverify.index.localfs import file_url_problem, is_file_url
from pgpverify.index.simple import SIMPLE_ACCEPT, ProjectFile, parse_project_page
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.keyring import Keyring
from pgpverify.trust.owners import OwnershipRecord
from pgpverify.urls import (
    Credentials,
    Origin,
    downgrade_problem,
    origin,
    redact_url,
    split_credentials,
    url_problem,
    userinfo_problem,
    with_credentials,
    without_credentials,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pgpverify.index.fetch import Download, Fetcher, Response

__all__ = ["IndexClient", "ProjectKeys", "pgp_root_for", "project_from_filename"]

_JSON_ACCEPT = "application/json"
_KEY_ACCEPT = "application/pgp-keys, text/plain;q=0.5, */*;q=0.1"
#: simple pages of big projects list thousands of files


def pgp_root_for(index_url: str) -> str:
    """The root of the ``pgp/`` tree for a simple index URL: its parent directory.

    ``https://host/simple/`` -> ``https://host/``; ``https://host/pypi/simple`` ->
    ``https://host/pypi/``; a simple URL at the host's root (``https://host/`` or
    ``https://host``) has its ``pgp/`` tree beside it: ``https://host/``. Scheme, userinfo,
    host and port (IPv6 literals included) are kept; query and fragment dropped. Raises
    ValueError for a URL that does not parse.
    """
    parts = urlsplit(index_url)
    path = parts.path.rstrip("/")
    parent = path.rsplit("/", 1)[0].rstrip("/") if "/" in path else ""
    return urlunsplit((parts.scheme, parts.netloc, parent + "/", "", ""))


def _directory(url: str) -> str:
    """``url`` as a directory: a trailing slash, no query or fragment."""
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def project_from_filename(filename: str) -> tuple[str, str]:
    """(normalized project name, version) from a wheel or sdist file name (packaging.utils).

    Raises :class:`InputError` when the name is neither.
    """
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError) as err:
        raise InputError(
            f"cannot tell the project from the file name ({err}); give --project",
            source=filename,
        ) from None
    return str(name), str(version)


@dataclass(frozen=True, slots=True)
class ProjectKeys:
    """What the index publishes for one project."""

    project: str
    record: OwnershipRecord | None
    keyring: Keyring
    #: armored key files by primary fingerprint, as published
    certificates: dict[str, bytes] = field(default_factory=dict)
    #: fingerprints the record lists but the index has no key file for
    missing: tuple[str, ...] = ()

    @property
    def fingerprints(self) -> frozenset[str]:
        """Primary fingerprints the index published keys for."""
        return frozenset(self.certificates)


@dataclass(slots=True)
class IndexClient:
    """Fetch ownership records, keys and signatures from one index.

    ``index_url`` and ``keys_url`` are checked (an http(s) scheme, a host) and kept without
    their credentials, so no URL this client names (in errors, results, cache keys) carries
    them: a ``user:token@`` is held per origin and sent only with requests to that origin
    (the fetcher sends it as Basic authentication and drops it on a redirect elsewhere).
    Every URL derived or read from a page is checked before it is requested; a link on an
    HTTPS page never leads to plain HTTP unless ``allow_insecure``.
    """

    fetcher: Fetcher
    index_url: str
    keys_url: str | None = None
    limits: Limits = DEFAULT_LIMITS
    #: allow a link from an HTTPS page to plain HTTP (``--allow-insecure``)
    allow_insecure: bool = False
    #: accept ``file:`` URLs (a local PEP 503 tree, as pip does): the index URL, the keys
    #: URL, and links on ``file:`` pages; a remote page never leads to a local file
    allow_files: bool = False
    _credentials: dict[Origin, Credentials] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        """Check the URLs and take their credentials off them (InputError when unusable)."""
        self.index_url = self._accept(self.index_url, "index URL")
        if self.keys_url is not None:
            self.keys_url = _directory(self._accept(self.keys_url, "keys URL"))

    def _accept(self, url: str, what: str) -> str:
        plain, credentials = split_credentials(url.strip())
        problem = userinfo_problem(url.strip()) or self._url_problem(plain)
        if problem is not None:
            raise InputError(
                f"unusable {what}: {problem}", source=redact_url(url.strip(), strict=True)
            )
        where = origin(plain)
        if credentials is not None and where is not None:
            self._credentials[where] = credentials
        return plain

    def _url_problem(self, url: str) -> str | None:
        if self.allow_files and is_file_url(url):
            return file_url_problem(url)
        return url_problem(url)

    @property
    def pgp_root(self) -> str:
        """Where ``pgp/`` lives (``--keys-url``, else the parent of the simple URL)."""
        return self.keys_url or pgp_root_for(self.index_url)

    def _get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str | None = None,
        page: str | None = None,
    ) -> Response:
        """GET a URL this client derived (or read from ``page``), after checking it.

        The URL policy applies to every URL followed, not only to redirects: an http(s)
        scheme and a host, and no plain HTTP from an HTTPS page. The credentials of the
        URL's origin, if any, travel with the request only; the Response names the URL
        without them.
        """
        response = self.fetcher.get(self._checked(url, page), max_bytes=max_bytes, accept=accept)
        return dataclasses.replace(response, url=without_credentials(response.url or url))

    @contextlib.contextmanager
    def stream_listed(self, url: str, *, page: str, max_bytes: int) -> Iterator[Download]:
        """Stream ``url``, read from ``page`` (a distribution file), under the URL policy.

        The same checks and credentials as :meth:`get_listed`; the body is read as it
        arrives and never held whole (a fetcher without ``stream`` answers from ``get``).
        """
        sent = self._checked(url, page)
        with open_stream(self.fetcher, sent, max_bytes=max_bytes) as download:
            yield dataclasses.replace(download, url=without_credentials(download.url or url))

    def _checked(self, url: str, page: str | None) -> str:
        """``url`` with its origin's credentials, once the URL policy allows it."""
        problem = self._url_problem(url)
        if problem is None and page is not None and is_file_url(url) and not is_file_url(page):
            problem = "a link from a remote page to a local file is never followed"
        elif problem is None and page is not None and not is_file_url(page):
            problem = downgrade_problem(url, context=page, allow_insecure=self.allow_insecure)
        if problem is not None:
            where = f"link {redact_url(url)} on {page}: " if page is not None else ""
            raise IndexResponseError(f"{where}{problem}", source=page or redact_url(url))
        where_to = origin(url)
        credentials = self._credentials.get(where_to) if where_to is not None else None
        return with_credentials(url, credentials)

    def record_url(self, project: str) -> str:
        """URL of a project's ownership record."""
        return f"{self.pgp_root}pgp/projects/{canonicalize_name(project)}.json"

    def key_url(self, fingerprint: str) -> str:
        """URL of a key file."""
        return f"{self.pgp_root}pgp/keys/{fingerprint.upper()}.asc"

    def page_url(self, project: str) -> str:
        """URL of a project's simple page (PEP 503: normalized name, trailing slash)."""
        parts = urlsplit(self.index_url)
        path = f"{parts.path.rstrip('/')}/{canonicalize_name(project)}/"
        return urlunsplit(parts._replace(path=path, fragment=""))

    def ownership(self, project: str) -> OwnershipRecord | None:
        """The project's ownership record; None when the index has none."""
        url = self.record_url(project)
        response = self._get(url, max_bytes=self.limits.owners_bytes, accept=_JSON_ACCEPT)
        if not response.found:
            return None
        _expect_json(response)
        try:
            record = OwnershipRecord.from_bytes(response.body, source=url)
        except OwnersError as err:
            raise IndexResponseError(err.message, source=url) from None
        if not record.is_for(project):
            # A record filed under one name must not pin owners for another (a lock file
            # keys projects by the record's name).
            raise IndexResponseError(
                f"the record at this URL is for project {record.project!r}, not "
                f"{canonicalize_name(project)!r}: refusing it",
                source=url,
            )
        return record

    def key(self, fingerprint: str) -> bytes | None:
        """The armored key file for ``fingerprint``, checked; None when not published.

        Raises :class:`IndexResponseError` when the file holds anything but exactly the
        certificate whose primary fingerprint is its name.
        """
        url = self.key_url(fingerprint)
        response = self._get(url, max_bytes=self.limits.keyring_bytes, accept=_KEY_ACCEPT)
        if not response.found:
            return None
        ring = Keyring(limits=self.limits)
        try:
            ring.add_bytes(response.body, source=url)
        except PgpVerifyError as err:
            raise IndexResponseError(
                f"key file does not parse: {err.message}", source=url
            ) from None
        found = [f.hex().upper() for f in ring.fingerprints]
        if found != [fingerprint.upper()]:
            what = ", ".join(found) if found else "no usable certificate"
            raise IndexResponseError(
                f"key file for {fingerprint.upper()} holds {what}: refusing it", source=url
            )
        return response.body

    def project_keys(self, project: str) -> ProjectKeys:
        """The record and every key it lists, as one keyring."""
        name = canonicalize_name(project)
        record = self.ownership(name)
        ring = Keyring(limits=self.limits)
        certificates: dict[str, bytes] = {}
        missing: list[str] = []
        listed = list(
            dict.fromkeys(f for m in record.maintainers for f in m.keys)
            if record is not None
            else []
        )
        if len(listed) > self.limits.record_keys:
            raise IndexResponseError(
                f"the ownership record lists {len(listed)} keys, more than "
                f"Limits.record_keys ({self.limits.record_keys}): not fetching them",
                source=self.record_url(name),
            )
        for fpr in listed:
            data = self.key(fpr)
            if data is None:
                missing.append(fpr)
                continue
            certificates[fpr] = data
            ring.add_bytes(data, source=self.key_url(fpr))
        return ProjectKeys(
            project=name,
            record=record,
            keyring=ring,
            certificates=certificates,
            missing=tuple(missing),
        )

    def project_files(self, project: str) -> list[ProjectFile]:
        """The files listed on the project's simple page ([] when the page is not found)."""
        return self._project_page(project)[1]

    def project_page(self, project: str) -> tuple[str, list[ProjectFile]]:
        """(the page's final URL, the files it lists); [] when the page is not found."""
        return self._project_page(project)

    def get_listed(self, url: str, *, page: str, max_bytes: int) -> Response:
        """GET ``url``, read from ``page`` (a file or its signature), under the URL policy."""
        return self._get(url, max_bytes=max_bytes, page=page)

    def _project_page(self, project: str) -> tuple[str, list[ProjectFile]]:
        """(the page's final URL, its files); links resolve against where it was served."""
        url = self.page_url(project)
        response = self._get(url, max_bytes=self.limits.page_bytes, accept=SIMPLE_ACCEPT)
        if not response.found:
            return url, []
        files = parse_project_page(
            response.body, url=response.url, content_type=response.content_type
        )
        return response.url, files

    def signature_for(self, project: str, filename: str) -> tuple[str, bytes] | None:
        """(URL, bytes) of ``filename``'s detached signature as the index lists it.

        None when the page does not list the file, says it has no signature, or the
        signature URL answers "not found".
        """
        page, files = self._project_page(project)
        for entry in files:
            if entry.filename != filename:
                continue
            if entry.gpg_sig is False:
                return None
            url = entry.signature_url
            response = self._get(url, max_bytes=self.limits.signature_bytes, page=page)
            if not response.found:
                return None
            return url, response.body
        return None


def _expect_json(response: Response) -> None:
    kind = (response.content_type or "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or response.body.lstrip()[:1] == b"<":
        raise IndexResponseError(
            f"expected a JSON ownership record, got {kind or 'HTML'}", source=response.url
        )
