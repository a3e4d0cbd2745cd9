"""Project pages of a simple repository: PEP 503 (HTML) and PEP 691 (JSON).

Only what verification needs is read: each file's name, URL, and whether the index says
it has a detached signature (``data-gpg-sig`` in HTML, ``gpg-sig`` in JSON; PEP 503 and
PEP 691). Pages are hostile input: any parse problem is an
:class:`pgpverify.errors.IndexResponseError`, never another exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

from pgpverify.errors import IndexResponseError
from pgpverify.urls import without_credentials

__all__ = ["SIMPLE_ACCEPT", "ProjectFile", "parse_project_page"]

#: PEP 691 content negotiation: JSON preferred, HTML accepted.
SIMPLE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
_JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/json")
#: an ISO 8601 time is 20-32 characters; a longer string is no upload time
_MAX_TIME_TEXT = 64


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """One distribution file listed on a project page."""

    filename: str
    #: absolute URL, without the hash fragment and without any ``user:password@`` the page
    #: put in it (a page never chooses what credentials are sent where)
    url: str
    #: True/False when the index says whether a signature exists, None when it does not say
    gpg_sig: bool | None
    #: the sha256 the index gives (HTML ``#sha256=`` fragment, JSON ``hashes``), lower-case
    #: as given (not checked to be 64 hex digits: a bad one simply never matches), or None
    sha256: str | None = None
    #: PEP 700 ``upload-time`` (JSON pages only), seconds since the epoch; None when the
    #: index does not give one, or gives one that does not parse
    upload_time: float | None = None
    #: PEP 503 ``data-requires-python`` / PEP 691 ``requires-python``, as given (unescaped)
    requires_python: str | None = None
    #: PEP 592: None when not yanked, else the reason ("" when the index gives none)
    yanked: str | None = None

    @property
    def signature_url(self) -> str:
        """Where the detached signature is published (PEP 503: the file URL + ``.asc``)."""
        return self.url + ".asc"


class _AnchorParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.files: list[ProjectFile] = []
        self._href: str | None = None
        self._sig: bool | None = None
        self._requires_python: str | None = None
        self._yanked: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href)
        if tag != "a":
            return
        values = dict(attrs)
        self._href = values.get("href")
        sig = values.get("data-gpg-sig")
        self._sig = None if sig is None else sig.strip().lower() == "true"
        self._requires_python = values.get("data-requires-python")
        self._yanked = (values.get("data-yanked") or "") if "data-yanked" in values else None
        self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._href is None:
            return
        url, fragment = urldefrag(urljoin(self.base, self._href))
        url = without_credentials(url)
        name = "".join(self._text).strip() or url.rsplit("/", 1)[-1]
        self.files.append(
            ProjectFile(
                filename=name,
                url=url,
                gpg_sig=self._sig,
                sha256=_fragment_sha256(fragment),
                requires_python=self._requires_python,
                yanked=self._yanked,
            )
        )
        self._href = None


def parse_project_page(body: bytes, *, url: str, content_type: str | None) -> list[ProjectFile]:
    """Files listed on the project page at ``url`` (JSON or HTML by content type)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in _JSON_TYPES:
        return _parse_json(body, url)
    if kind and kind not in ("text/html", "application/vnd.pypi.simple.v1+html"):
        raise IndexResponseError(f"unexpected content type {kind!r} for a project page", source=url)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise IndexResponseError("project page is not UTF-8", source=url) from None
    parser = _AnchorParser(url)
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError) as err:  # html.parser on broken markup
        raise IndexResponseError(f"project page does not parse: {err}", source=url) from None
    return parser.files


def _parse_json(body: bytes, url: str) -> list[ProjectFile]:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise IndexResponseError("project page is not valid JSON", source=url) from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise IndexResponseError("project page JSON has no 'files' list", source=url)
    out = []
    for entry in files:
        if not isinstance(entry, dict):
            raise IndexResponseError("project page JSON: a file entry is not an object", source=url)
        name, href = entry.get("filename"), entry.get("url")
        if not isinstance(name, str) or not isinstance(href, str):
            raise IndexResponseError(
                "project page JSON: a file lacks 'filename' or 'url'", source=url
            )
        sig = entry.get("gpg-sig")
        try:
            file_url, _ = urldefrag(urljoin(url, href))
        except ValueError as err:
            raise IndexResponseError(
                f"project page JSON: bad file URL: {err}", source=url
            ) from None
        out.append(
            ProjectFile(
                filename=name,
                url=without_credentials(file_url),
                gpg_sig=sig if isinstance(sig, bool) else None,
                sha256=_json_sha256(entry.get("hashes"), url),
                upload_time=_upload_time(entry.get("upload-time")),
                requires_python=_text_or_none(entry.get("requires-python")),
                yanked=_json_yanked(entry.get("yanked")),
            )
        )
    return out


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _json_yanked(value: object) -> str | None:
    """PEP 592 in PEP 691, read as pip reads it: a reason string, or another true value."""
    if not value:
        return None
    return value if isinstance(value, str) else ""


def _fragment_sha256(fragment: str) -> str | None:
    """The value of a ``sha256=`` URL fragment (PEP 503), lower-cased; None without one."""
    name, sep, value = fragment.partition("=")
    if not sep or name.strip().lower() != "sha256":
        return None
    return value.strip().lower()


def _json_sha256(hashes: object, url: str) -> str | None:
    """PEP 691 ``hashes["sha256"]``, lower-cased; None when the index gives none.

    A ``hashes`` that is not an object, or a sha256 that is not a string, is a broken
    page, never "no hash": the file must not lose the index's hash check to it.
    """
    if hashes is None:
        return None
    if not isinstance(hashes, dict):
        raise IndexResponseError(
            "project page JSON: a file's 'hashes' is not an object", source=url
        )
    value = hashes.get("sha256")
    if value is None:
        return None
    if not isinstance(value, str):
        raise IndexResponseError("project page JSON: a file's sha256 is not a string", source=url)
    return value.strip().lower()


def _upload_time(value: object) -> float | None:
    """PEP 700 ``upload-time`` (ISO 8601, UTC) as seconds since the epoch, or None."""
    if not isinstance(value, str) or len(value) > _MAX_TIME_TEXT:
        return None
    from pgpverify.isotime import parse_iso8601

    try:
        return parse_iso8601(value).timestamp()
    except (ValueError, OverflowError):
        return None
