"""The one category each audited file gets, from its two verdicts (issue 11).

A file is verified twice with the same code as ``verify``: as of its upload time and as of
now. The category is decided here and nowhere else:

- ``unsigned``: the index has no ``.asc`` for it;
- ``good``: good now, and signed at release time (within the grace period of the upload);
- ``good-backsigned``: good now, but the signature was made more than the grace period
  after the upload: a maintainer vouched for the file later, which is not a signature made
  at release time and is never counted as one;
- ``expired-since`` / ``revoked-since``: good as of the upload, ``key-expired`` /
  ``key-revoked`` now;
- ``hash-mismatch``: the file served does not have the sha256 its index listing gives (the
  verdicts are still stored);
- otherwise the verdict's own reason now (``unknown-key``, ``not-owner``, ...).

A file whose index gives no upload time is flagged ``upload_time_unknown``: it is judged
now only, and is never counted as backsigned or not (``backsigned`` is None). So is one
whose index claims an upload after the reference time (:func:`believable_upload_time`):
an index cannot move a backsigned signature to release time by dating the upload in the
future.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgpverify.verify import Reason

__all__ = [
    "BACKSIGNED",
    "CATEGORIES",
    "EXPIRED_SINCE",
    "GOOD",
    "HASH_MISMATCH",
    "REVOKED_SINCE",
    "UNSIGNED",
    "Judgement",
    "believable_upload_time",
    "categorise",
]

GOOD = "good"
BACKSIGNED = "good-backsigned"
EXPIRED_SINCE = "expired-since"
REVOKED_SINCE = "revoked-since"
UNSIGNED = "unsigned"
HASH_MISMATCH = "hash-mismatch"

#: every category a report counts, zeros included, in the order a report lists them
CATEGORIES: tuple[str, ...] = (
    GOOD,
    BACKSIGNED,
    EXPIRED_SINCE,
    REVOKED_SINCE,
    UNSIGNED,
    HASH_MISMATCH,
    *(r.value for r in Reason if r is not Reason.GOOD),
)


@dataclass(frozen=True, slots=True)
class Judgement:
    """A file's category and the flags that go with it."""

    category: str
    #: True/False when the upload time is known and the file is signed, else None
    backsigned: bool | None
    upload_time_unknown: bool


def believable_upload_time(upload_time: float | None, reference: float) -> float | None:
    """The index's upload time, or None (unknown) when it is after the reference time."""
    if upload_time is None or upload_time > reference:
        return None
    return upload_time


def categorise(
    *,
    signed: bool,
    reason_now: str | None,
    reason_at_upload: str | None,
    upload_time: float | None,
    signature_created: float | None,
    grace_seconds: float,
    hash_matches: bool = True,
) -> Judgement:
    """The category of one file (see the module docstring for the rules, in order).

    ``reason_at_upload`` is None when no upload time is known (no second verdict).
    """
    unknown = upload_time is None
    if not signed:
        return Judgement(UNSIGNED, backsigned=None, upload_time_unknown=unknown)
    backsigned: bool | None = None
    if upload_time is not None and signature_created is not None:
        backsigned = signature_created > upload_time + grace_seconds
    if not hash_matches:
        return Judgement(HASH_MISMATCH, backsigned, unknown)
    if reason_now == Reason.GOOD.value:
        category = BACKSIGNED if backsigned else GOOD
        return Judgement(category, backsigned, unknown)
    if reason_at_upload == Reason.GOOD.value:
        if reason_now == Reason.KEY_EXPIRED.value:
            return Judgement(EXPIRED_SINCE, backsigned, unknown)
        if reason_now == Reason.KEY_REVOKED.value:
            return Judgement(REVOKED_SINCE, backsigned, unknown)
    return Judgement(reason_now or Reason.MALFORMED.value, backsigned, unknown)
