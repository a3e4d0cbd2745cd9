"""``audit report``: the store as JSON, CSV and a self-contained HTML page.

One pass over the store gathers every aggregate (memory grows with projects, keys and
years, never with files); the JSON and CSV file lists are streamed row by row. The JSON is
one object: ``totals`` over every category (zeros included), ``backsigned`` (count and
share among signed files with a known upload time), ``by_year``, ``algorithms_by_year``,
``keys``, ``projects`` and ``files``. CSV holds the same per-file facts.

HTML: a Jinja2 template (autoescaped: every name, file name and message from the index is
text, never markup, and its control, bidi and invisible characters are shown escaped)
with charts drawn by pygal as inline SVG, readable without JavaScript or network. pygal is
chosen because it is pure Python, writes SVG natively (no numpy, no font or image stack,
as matplotlib needs) and its SVG embeds in a page as is; its interactive script is
dropped. Both are the optional extra ``pgpverify[report]``: JSON and CSV need neither.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from pgpverify.audit.categories import (
    BACKSIGNED,
    CATEGORIES,
    EXPIRED_SINCE,
    GOOD,
    REVOKED_SINCE,
    UNSIGNED,
)
from pgpverify.audit.store import AuditStoreError
from pgpverify.errors import InputError, PgpVerifyError
from pgpverify.isotime import format_utc
from pgpverify.limits import DEFAULT_LIMITS, Limits, WorkBudget
from pgpverify.openpgp.certificate import KeyVerdict
from pgpverify.openpgp.constants import SigType
from pgpverify.openpgp.keyring import Keyring
from pgpverify.textsafe import terminal_safe

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from pgpverify.audit.store import AuditStore, FileRow
    from pgpverify.openpgp.certificate import Certificate
    from pgpverify.openpgp.signature import Signature

__all__ = [
    "FILE_FIELDS",
    "KeyDates",
    "ReportData",
    "gather",
    "key_dates",
    "write_csv",
    "write_html",
    "write_json",
]

#: per-file facts, in the JSON objects and the CSV columns
FILE_FIELDS = (
    "project",
    "file",
    "category",
    "sha256",
    "upload_time",
    "upload_time_unknown",
    "backsigned",
    "signature_created",
    "signer_fingerprint",
    "primary_fingerprint",
    "hash_algorithm",
    "key_algorithm",
    "key_bits",
    "reason_at_upload",
    "reason_now",
    "message_now",
    "key_owner",
)
#: file names listed per project in the HTML report (the JSON and CSV list every file)
_HTML_FILES_PER_PROJECT = 50
#: algorithms_by_year names: "hash SHA256", "key RSA 1024" (a key's size is part of its name)
_HASH, _KEY = "hash ", "key "
#: signing subkeys judged per key in the keys table
_SUBKEYS_JUDGED = 8
_UNKNOWN_YEAR = "unknown"


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    try:
        return format_utc(seconds)
    except (ValueError, OverflowError, OSError):
        return None


def _year(seconds: float | None) -> str:
    if seconds is None:
        return _UNKNOWN_YEAR
    try:
        return str(datetime.fromtimestamp(seconds, timezone.utc).year)
    except (ValueError, OverflowError, OSError):
        return _UNKNOWN_YEAR


def file_facts(row: FileRow) -> dict[str, Any]:
    """The JSON object of one file (FILE_FIELDS)."""
    return {
        "project": row.project,
        "file": row.filename,
        "category": row.category,
        "sha256": row.sha256 or row.listed_sha256,
        "upload_time": _iso(row.upload_time),
        "upload_time_unknown": row.upload_time_unknown,
        "backsigned": row.backsigned,
        "signature_created": _iso(row.signature_created),
        "signer_fingerprint": row.signer_fingerprint,
        "primary_fingerprint": row.primary_fingerprint,
        "hash_algorithm": row.hash_algorithm,
        "key_algorithm": row.key_algorithm,
        "key_bits": row.key_bits,
        "reason_at_upload": row.reason_at_upload,
        "reason_now": row.reason_now,
        "message_now": row.message_now,
        "key_owner": row.key_owner,
    }


@dataclass(slots=True)
class _Key:
    fingerprint: str
    algorithm: str | None = None
    bits: int | None = None
    projects: set[str] = field(default_factory=set)
    files: int = 0
    #: from the verdicts; replaced by the archived certificate's own state when known
    state: str = "valid"
    owner: str | None = None
    #: the latest reference time of its files: when the certificate is judged
    at: float = 0.0
    #: blob digest of a certificate published for another signer (not-owner files)
    foreign_digest: str | None = None
    #: the key fingerprints (primary or subkeys) that signed its files, at most a few
    signers: set[str] = field(default_factory=set)
    #: from the archived certificate at ``at``: expiry (ISO time, "never") and revocation
    expires: str | None = None
    revoked: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "algorithm": self.algorithm,
            "bits": self.bits,
            "projects": sorted(self.projects),
            "files": self.files,
            "state": self.state,
            "expires": self.expires,
            "revoked": self.revoked,
            "owner": self.owner,
        }


@dataclass(slots=True)
class _Project:
    name: str
    totals: Counter[str] = field(default_factory=Counter)
    findings: list[tuple[str, str, str]] = field(default_factory=list)
    more: int = 0


@dataclass(slots=True)
class ReportData:
    """Every aggregate a report shows."""

    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))
    files: int = 0
    backsigned: int = 0
    #: signed files whose upload time is known (the denominator of the backsigned share)
    dated_signed: int = 0
    upload_time_unknown: int = 0
    by_year: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    algorithms_by_year: dict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    keys: dict[str, _Key] = field(default_factory=dict)
    projects: dict[str, _Project] = field(default_factory=dict)

    @property
    def backsigned_share(self) -> float:
        """Backsigned files among signed files with a known upload time (0 when none)."""
        return self.backsigned / self.dated_signed if self.dated_signed else 0.0

    def add(self, row: FileRow) -> None:
        """Count one file."""
        self.files += 1
        self.totals[row.category] = self.totals.get(row.category, 0) + 1
        year = _year(None if row.upload_time_unknown else row.upload_time)
        self.by_year[year][row.category] += 1
        if row.upload_time_unknown:
            self.upload_time_unknown += 1
        if row.asc_digest is not None and row.backsigned is not None:
            self.dated_signed += 1
            self.backsigned += int(row.backsigned)
        if row.hash_algorithm:
            self.algorithms_by_year[year][_HASH + row.hash_algorithm] += 1
        if row.key_algorithm:
            label = row.key_algorithm
            if row.key_bits and str(row.key_bits) not in label:
                label = f"{label} {row.key_bits}"
            self.algorithms_by_year[year][_KEY + label] += 1
        project = self.projects.setdefault(row.project, _Project(row.project))
        project.totals[row.category] += 1
        if row.category != GOOD:
            if len(project.findings) < _HTML_FILES_PER_PROJECT:
                project.findings.append((row.filename, row.category, row.message_now))
            else:
                project.more += 1
        if row.primary_fingerprint:
            key = self.keys.setdefault(row.primary_fingerprint, _Key(row.primary_fingerprint))
            key.algorithm = key.algorithm or row.key_algorithm
            key.bits = key.bits or row.key_bits
            key.projects.add(row.project)
            key.files += 1
            key.owner = key.owner or row.key_owner
            key.foreign_digest = key.foreign_digest or row.foreign_key_digest
            if row.signer_fingerprint and len(key.signers) < _SUBKEYS_JUDGED:
                key.signers.add(row.signer_fingerprint)
            key.at = max(key.at, _finite(row.reference_time))
            if row.category == REVOKED_SINCE or row.reason_now == "key-revoked":
                key.state = "revoked"
            elif key.state != "revoked" and (
                row.category == EXPIRED_SINCE or row.reason_now == "key-expired"
            ):
                key.state = "expired"

    def summary(self) -> dict[str, Any]:
        """The JSON object without the file list."""
        return {
            "totals": dict(self.totals),
            "files_total": self.files,
            "backsigned": {
                "count": self.backsigned,
                "of_signed_with_upload_time": self.dated_signed,
                "share": round(self.backsigned_share, 6),
            },
            "upload_time_unknown": self.upload_time_unknown,
            "by_year": {y: dict(c) for y, c in sorted(self.by_year.items())},
            "algorithms_by_year": {y: dict(c) for y, c in sorted(self.algorithms_by_year.items())},
            "keys": [k.to_json() for _, k in sorted(self.keys.items())],
            "projects": {name: dict(p.totals) for name, p in sorted(self.projects.items())},
        }


def gather(store: AuditStore, *, limits: Limits = DEFAULT_LIMITS) -> ReportData:
    """One pass over the store, then each key's state from its archived certificate."""
    data = ReportData()
    for row in store.files():
        data.add(row)
    # every archived copy of a key (projects fetched at different times, another signer's
    # key): merged as verify merges keyrings, so a copy can add a revocation, never hide one
    archived: dict[str, set[str]] = defaultdict(set)
    for project in store.projects():
        for fpr, blob_key in project.certificates.items():
            archived[fpr.upper()].add(blob_key)
    for fpr, item in data.keys.items():
        found = set(archived.get(fpr.upper(), ()))
        if item.foreign_digest is not None:
            found.add(item.foreign_digest)
        if not found:  # the state the verdicts saw stays
            continue
        try:
            blob = [store.blob(key) for key in sorted(found)]
        except AuditStoreError:
            item.state = "archived certificate missing or altered"
            continue
        dates = key_dates(blob, fpr, item.at, subkeys=item.signers, limits=limits)
        item.state, item.expires, item.revoked = dates.state, dates.expires, dates.revoked
    return data


def _finite(seconds: float) -> float:
    return seconds if isinstance(seconds, (int, float)) and math.isfinite(seconds) else 0.0


@dataclass(frozen=True, slots=True)
class KeyDates:
    """A primary key's state at a reference time, from its certificate alone."""

    #: "valid", "expired", "revoked", or why it could not be judged
    state: str
    #: when the primary key expires (ISO 8601 UTC), "never", or None when unknown
    expires: str | None
    #: the revocation in effect (its time and reason), or None
    revoked: str | None


def key_dates(
    data: bytes | list[bytes],
    fingerprint: str,
    at: float,
    *,
    subkeys: Iterable[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> KeyDates:
    """Expiry and revocation of the primary key ``fingerprint`` in ``data`` at ``at``.

    Judged by the certificate code ``verify`` uses (RFC 9580 §5.2.3.31 revocations,
    §5.2.3.10 expiry; forged self-signatures and revocations are ignored): a revocation
    made by ``at`` that revokes a signature made at ``at``; the primary's expiry is the
    earlier of the windows its newest valid direct-key signature and its newest valid
    user ID self-signature set. ``data`` is every copy the store archived (what the index
    published each time a project was audited), merged as ``verify`` merges keyrings; data
    that does not hold the key, or that a cap stops, gives a state saying so, never an
    exception. ``subkeys`` are the fingerprints that signed its files: a signing subkey
    revoked or expired on its own says so too (the first ``_SUBKEYS_JUDGED`` of them).
    """
    when = int(_finite(at))
    try:
        ring = Keyring(limits=limits)
        for copy in [data] if isinstance(data, bytes) else data:
            ring.add_bytes(copy, source=f"archived key {fingerprint}")
        cert = ring.certificate(bytes.fromhex(fingerprint))
        if cert is None:
            return KeyDates("not in its archived certificate", None, None)
        primary = cert.find_key(cert.fingerprint)
        assert primary is not None
        budget = WorkBudget.of(limits)
        judgement = cert.judge(primary, when, when, budget=budget)
        revoked = (
            judgement.message
            if judgement is not None and judgement.verdict is KeyVerdict.REVOKED
            else None
        )
        expires = _primary_expiry(cert, when, budget)
        # a signing subkey its files name may be revoked or expired on its own
        subkey_state = None
        for signer in sorted(set(subkeys))[:_SUBKEYS_JUDGED]:
            key = cert.find_key(bytes.fromhex(signer))
            if revoked is not None or key is None or key.is_primary:
                continue
            verdict = cert.judge(key, when, when, budget=budget)
            if verdict is not None and verdict.verdict is KeyVerdict.REVOKED:
                revoked = f"{verdict.message} ({signer})"
            elif verdict is not None and verdict.verdict is KeyVerdict.EXPIRED:
                subkey_state = subkey_state or f"{verdict.message} ({signer})"
    except (PgpVerifyError, ValueError) as err:
        return KeyDates(f"not judged ({err})", None, None)
    if revoked is not None:
        state = "revoked"
    elif expires is not None and expires <= when:
        state = "expired"
    elif subkey_state is not None:
        state = f"expired: {subkey_state}"
    else:
        state = "valid"
    return KeyDates(state, "never" if expires is None else _iso(expires), revoked)


def _primary_expiry(cert: Certificate, at: int, budget: WorkBudget) -> int | None:
    newest: dict[bool, Signature] = {}
    for sig in cert.self_signatures(at, budget):  # oldest first
        newest[sig.sig_type == SigType.DIRECT_KEY] = sig
    created = cert.primary.packet.created
    windows = [created + s.key_expiration for s in newest.values() if s.key_expiration]
    return min(windows, default=None)


def write_json(store: AuditStore, data: ReportData, out: TextIO) -> None:
    """The report as one JSON object (ASCII-only), files streamed one per line."""
    summary = json.dumps(data.summary(), ensure_ascii=True, sort_keys=True)
    out.write(summary[:-1] + ', "files": [')
    first = True
    for row in store.files():
        out.write(("\n" if first else ",\n") + json.dumps(file_facts(row), ensure_ascii=True))
        first = False
    out.write("\n]}\n")


#: a cell a spreadsheet would run as a formula (CSV injection) gets a leading quote
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def write_csv(store: AuditStore, out: TextIO) -> None:
    """One row per file (FILE_FIELDS); text that a spreadsheet would evaluate is quoted."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FILE_FIELDS)
    for row in store.files():
        facts = file_facts(row)
        writer.writerow([_cell(facts[name]) for name in FILE_FIELDS])


_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)


#: category colours: green for good, amber to red as trust fades, grey for unsigned
CATEGORY_COLOURS = {
    GOOD: "#2e7d32",
    BACKSIGNED: "#9ccc65",
    EXPIRED_SINCE: "#ffb300",
    REVOKED_SINCE: "#ef6c00",
    UNSIGNED: "#9e9e9e",
    "hash-mismatch": "#6a1b9a",
    "bad-signature": "#b71c1c",
    "unknown-key": "#1565c0",
    "not-owner": "#d81b60",
    "weak-hash": "#8d6e63",
    "weak-key": "#5d4037",
    "key-expired": "#f9a825",
    "key-revoked": "#c62828",
    "malformed": "#212121",
}
_PALETTE = (
    "#1565c0",
    "#ef6c00",
    "#2e7d32",
    "#6a1b9a",
    "#00838f",
    "#c62828",
    "#8d6e63",
    "#f9a825",
    "#455a64",
    "#d81b60",
    "#558b2f",
    "#4527a0",
)


def _drop_pygal_import_hook(pygal: Any) -> None:
    """Take pygal's ``PluginImportFixer`` off ``sys.meta_path`` (importing pygal adds it).

    It serves only ``pygal.maps.*`` plugins (never used here) and has no ``find_spec``:
    every later import in the process that reaches it warns (``ImportWarning``; an error
    under ``-W error``, in a library caller's process too), and Python 3.12 ignores it.
    """
    fixer = getattr(pygal, "PluginImportFixer", None)
    if isinstance(fixer, type):
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, fixer)]


def _chart(title: str, columns: list[tuple[str, Counter[str]]], names: list[str]) -> str:
    """A stacked bar chart as inline SVG (a bar per column), without pygal's script."""
    try:
        import pygal  # type: ignore[import-untyped,import-not-found,unused-ignore]
        from pygal.style import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
            Style,
        )
    except ImportError as err:  # the optional extra
        raise InputError(
            f"the HTML report needs the 'report' extra: pip install 'pgpverify[report]' ({err})"
        ) from None
    _drop_pygal_import_hook(pygal)
    shown = [n for n in names if any(c.get(n, 0) for _, c in columns)]
    colours = [
        CATEGORY_COLOURS.get(n, _PALETTE[i % len(_PALETTE)]) for i, n in enumerate(shown)
    ] or ["#9e9e9e"]
    style = Style(
        colors=tuple(colours),
        background="#ffffff",
        plot_background="#ffffff",
        font_family="sans-serif",
        title_font_size=16,
        legend_font_size=13,
    )
    chart = pygal.StackedBar(
        js=[],
        disable_xml_declaration=True,
        width=960,
        height=max(400, 120 + 26 * len(shown)),
        style=style,
        title=title,
        print_values=False,
        show_y_guides=True,
        x_title="upload year",
        truncate_legend=40,
    )
    chart.x_labels = [label for label, _ in columns] or ["(none)"]
    chart.y_labels = _count_ticks(max((sum(c.values()) for _, c in columns), default=0))
    for name in shown:
        chart.add(name, [c.get(name, 0) for _, c in columns])
    if not shown:
        chart.add("no files", [0] * max(1, len(columns)))
    svg = str(chart.render(is_unicode=True))
    return _SCRIPT.sub("", svg)


def _count_ticks(top: int) -> list[int]:
    """Whole-number ticks from 0 to at least ``top`` (files are counted, never 0.1 of one)."""
    step = max(1, -(-top // 10))
    return list(range(0, max(top, 1) + step, step))


def render_html(data: ReportData, *, title: str, generated: str) -> str:
    """The self-contained HTML page."""
    try:
        import jinja2
        import markupsafe
    except ImportError as err:
        raise InputError(
            f"the HTML report needs the 'report' extra: pip install 'pgpverify[report]' ({err})"
        ) from None

    def shown(value: object) -> object:
        # names, file names, user IDs and messages come from the index: a bidi override or
        # an invisible character is written visibly (\u202e), as on a terminal
        if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
            return terminal_safe(value)
        return value

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pgpverify.audit", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=shown,
    )
    algorithms = sorted({a for c in data.algorithms_by_year.values() for a in c})
    # two bars a year, each summing to its signed files: the hashes, then the keys
    kinds = [
        (
            f"{year} {prefix.strip()}",
            Counter({n: v for n, v in counts.items() if n.startswith(prefix)}),
        )
        for year, counts in sorted(data.algorithms_by_year.items())
        for prefix in (_HASH, _KEY)
    ]
    charts = {
        "categories": _chart(
            "Files by category and upload year", sorted(data.by_year.items()), list(CATEGORIES)
        ),
        "algorithms": _chart(
            "Hash and key algorithms (and key sizes) by upload year", kinds, algorithms
        ),
    }
    return env.get_template("report.html.j2").render(
        title=title,
        generated=generated,
        data=data,
        categories=CATEGORIES,
        charts={k: markupsafe.Markup(v) for k, v in charts.items()},  # noqa: S704 - our SVG
        keys=[k for _, k in sorted(data.keys.items())],
        projects=[p for _, p in sorted(data.projects.items())],
        backsigned_label=BACKSIGNED,
    )


def write_html(data: ReportData, path: Path, *, generated: str) -> None:
    """Write the HTML report to ``path``."""
    text = render_html(data, title="pgpverify audit", generated=generated)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write: {err.strerror or err}", source=str(path)) from None
