"""One distribution file and its index entry: match, signature discovery, upload time.

Shared by ``check`` (local files against their index) and ``audit`` (an index's own files).
The rules (issue 10):

- A file is matched to its project page's entry by **name and sha256**: a sha256 that
  differs from the index's is :attr:`Match.HASH_MISMATCH`, a name the page does not list is
  :attr:`Match.NOT_ON_INDEX`; an entry without a sha256 is :attr:`Match.NO_INDEX_HASH`
  (matched by name only; the signature still binds the bytes).
- Signature discovery (:func:`find_signature`): ``data-gpg-sig="false"`` / ``"gpg-sig":
  false`` is unsigned without asking; ``true`` means ``<file URL>.asc`` must exist (a 404 is
  :attr:`SignatureState.MISSING`, an error, never unsigned); when the index says nothing, a
  listed ``<file>.asc`` link is used if there is one (it must exist too), else
  ``<file URL>.asc`` is probed and a 404 is unsigned.
- Signature metadata comes from the index only: nothing here looks at the local disk.

Network failures are :class:`~pgpverify.errors.NetworkError` and page problems
:class:`~pgpverify.errors.IndexResponseError`, raised to the caller, which reports them per
file.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from pathlib import Path

    from pgpverify.index.client import IndexClient
    from pgpverify.index.simple import ProjectFile

__all__ = [
    "DEFAULT_BACKSIGN_GRACE",
    "Match",
    "ProjectPage",
    "SignatureLookup",
    "SignatureState",
    "find_signature",
    "is_backsigned",
    "match_file",
    "sha256_file",
]

#: a signature made more than this many seconds after the upload is backsigned (24 h)
DEFAULT_BACKSIGN_GRACE = 24 * 3600.0
_CHUNK = 1 << 20


class Match(enum.Enum):
    """How a local file relates to its project page."""

    MATCHED = "matched"
    NO_INDEX_HASH = "no-index-hash"
    HASH_MISMATCH = "hash-mismatch"
    NOT_ON_INDEX = "not-on-index"


class SignatureState(enum.Enum):
    """What the index says about a file's detached signature."""

    SIGNED = "signed"
    UNSIGNED = "unsigned"
    #: the index says (or links) a signature that it does not serve: an error
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """A project's simple page as fetched once: where it was served and what it lists."""

    project: str
    url: str
    files: tuple[ProjectFile, ...]

    @classmethod
    def fetch(cls, client: IndexClient, project: str) -> ProjectPage:
        """Fetch the page (PEP 691 JSON preferred, PEP 503 HTML accepted)."""
        url, files = client.project_page(project)
        return cls(project=str(canonicalize_name(project)), url=url, files=tuple(files))

    def entry(self, filename: str) -> ProjectFile | None:
        """The listed entry named exactly ``filename`` (the first, if listed twice)."""
        return next((f for f in self.files if f.filename == filename), None)


@dataclass(frozen=True, slots=True)
class SignatureLookup:
    """The outcome of :func:`find_signature`."""

    state: SignatureState
    #: where the signature is (or should have been); None when the index said "unsigned"
    url: str | None
    data: bytes | None
    #: how it was found, for messages: "gpg-sig false", "gpg-sig true", "listed", "probed"
    how: str


def match_file(page: ProjectPage, filename: str, sha256: str) -> tuple[Match, ProjectFile | None]:
    """Match a local file (its name and sha256, lower-case hex) to ``page``'s entry."""
    entry = page.entry(filename)
    if entry is None:
        return Match.NOT_ON_INDEX, None
    if entry.sha256 is None:
        return Match.NO_INDEX_HASH, entry
    if entry.sha256 != sha256.lower():
        return Match.HASH_MISMATCH, entry
    return Match.MATCHED, entry


def find_signature(client: IndexClient, page: ProjectPage, entry: ProjectFile) -> SignatureLookup:
    """Discover ``entry``'s detached signature as the index publishes it (module rules)."""
    if entry.gpg_sig is False:
        return SignatureLookup(SignatureState.UNSIGNED, None, None, "gpg-sig false")
    if entry.gpg_sig is True:
        url, how, required = entry.signature_url, "gpg-sig true", True
    else:
        listed = page.entry(entry.filename + ".asc")
        if listed is not None:
            url, how, required = listed.url, "listed", True
        else:
            url, how, required = entry.signature_url, "probed", False
    response = client.get_listed(url, page=page.url, max_bytes=client.limits.signature_bytes)
    if response.found:
        return SignatureLookup(SignatureState.SIGNED, url, response.body, how)
    state = SignatureState.MISSING if required else SignatureState.UNSIGNED
    return SignatureLookup(state, url, None, how)


def is_backsigned(signed_at: float, upload_time: float | None, grace: float) -> bool | None:
    """Whether a signature made at ``signed_at`` came more than ``grace`` s after the upload.

    None when the upload time is unknown: neither backsigned nor not.
    """
    if upload_time is None:
        return None
    return signed_at - upload_time > grace


def sha256_file(path: Path) -> str:
    """The sha256 of a local file, streamed (OSError to the caller)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
