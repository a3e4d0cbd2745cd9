r"""A :class:`~pgpverify.check.model.CheckReport` as text, GitHub annotations and JUnit XML.

Every string here can come from an attacker (file names, messages quoting records, keys
and servers), so each format escapes for its reader: the text table goes through
:func:`~pgpverify.textsafe.terminal_safe` cell by cell (a name cannot break the table or
forge a line); GitHub workflow commands percent-encode ``%``, CR, LF (and ``:`` ``,`` in
properties), so a name cannot end the annotation and start another command; the job
summary is Markdown with HTML and ``|`` escaped; JUnit XML holds only characters XML 1.0
allows (others written as ``\uXXXX``) and is escaped by the XML writer.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import PurePath
from typing import TYPE_CHECKING

from pgpverify.check.model import Status
from pgpverify.textsafe import terminal_safe

if TYPE_CHECKING:
    from pgpverify.check.model import CheckReport, FileCheck

__all__ = ["github_lines", "github_summary", "junit_xml", "text_lines"]

_COLUMNS = ("file", "project", "version", "status", "reason", "signer", "role", "backsigned")
#: characters XML 1.0 does not allow, even escaped
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MAX_CELL = 60


def _name(item: FileCheck) -> str:
    return PurePath(item.file).name or item.file


def _backsigned(item: FileCheck) -> str:
    if item.backsigned is None:
        return "-" if item.status is not Status.GOOD else "unknown"
    return "YES" if item.backsigned else "no"


def _cell(text: str | None) -> str:
    safe = terminal_safe(text or "-")
    return safe if len(safe) <= _MAX_CELL else safe[: _MAX_CELL - 3] + "..."


def _row(item: FileCheck) -> tuple[str, ...]:
    signer = item.maintainer or (item.primary_fingerprint or "")[-16:] or None
    return tuple(
        _cell(v)
        for v in (
            _name(item),
            item.project,
            item.version,
            item.status.value.upper(),
            item.reason,
            signer,
            item.role,
            _backsigned(item),
        )
    )


def text_lines(report: CheckReport, *, quiet: bool = False) -> list[str]:
    """The table, one detail line per file that is not plainly good, and the totals.

    ``quiet`` keeps only the details of files that fail and the totals.
    """
    lines: list[str] = []
    if not quiet and report.files:
        rows = [_COLUMNS, *(_row(f) for f in report.files)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
    for item in report.files:
        if quiet and item.passed:
            continue
        if item.status is not Status.GOOD:
            lines.append(
                f"{item.status.value.upper()} {_name(item)}: {item.reason}: {item.message}"
            )
        lines.extend(f"warning: {_name(item)}: {w}" for w in item.warnings)
    lines.extend(f"warning: {w}" for w in report.warnings)
    totals = report.totals
    verdict = "OK" if report.ok else "FAILED"
    lines.append(
        f"{verdict}: {len(report.files)} file(s): {totals['good']} good, "
        f"{totals['unsigned']} unsigned, {totals['rejected']} rejected, "
        f"{totals['error']} error(s)"
    )
    return [terminal_safe(line) for line in lines]


def _command_data(text: str) -> str:
    return terminal_safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _command_property(text: str) -> str:
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(report: CheckReport) -> list[str]:
    """GitHub Actions workflow commands, one per line.

    ``::error`` for a failing file, ``::warning`` for an unsigned or backsigned one and for
    each warning, ``::notice`` for the totals.
    """
    lines = []
    for item in report.files:
        title = _command_property(f"pgpverify {item.reason}")
        where = f"file={_command_property(item.file)},title={title}"
        if not item.passed:
            lines.append(f"::error {where}::{_command_data(item.message)}")
        elif item.status is Status.UNSIGNED or item.backsigned:
            lines.append(f"::warning {where}::{_command_data(item.message)}")
        lines.extend(
            f"::warning file={_command_property(item.file)}::{_command_data(w)}"
            for w in item.warnings
        )
    lines.extend(f"::warning ::{_command_data(w)}" for w in report.warnings)
    totals = report.totals
    lines.append(
        f"::notice title=pgpverify check::{'OK' if report.ok else 'FAILED'}: "
        f"{totals['good']} good, {totals['unsigned']} unsigned, "
        f"{totals['rejected']} rejected, {totals['error']} error(s)"
    )
    return lines


def _md(text: str | None) -> str:
    safe = html.escape(terminal_safe(text or "-"), quote=True)
    return safe.replace("|", "\\|").replace("`", "&#96;").replace("[", "&#91;")


def github_summary(report: CheckReport) -> str:
    """A Markdown job summary (``$GITHUB_STEP_SUMMARY``): the verdict and the table."""
    totals = report.totals
    out = [
        f"### pgpverify check: {'OK' if report.ok else 'FAILED'}\n\n",
        (
            f"{totals['good']} good, {totals['unsigned']} unsigned, {totals['rejected']} "
            f"rejected, {totals['error']} error(s)\n\n"
        ),
        "| " + " | ".join(_COLUMNS) + " | message |\n",
        "|" + "---|" * (len(_COLUMNS) + 1) + "\n",
    ]
    for item in report.files:
        signer = item.maintainer or item.primary_fingerprint
        cells = (
            _name(item),
            item.project,
            item.version,
            item.status.value,
            item.reason,
            signer,
            item.role,
            _backsigned(item),
            item.message,
        )
        out.append("| " + " | ".join(_md(c) for c in cells) + " |\n")
    return "".join(out)


def _xml(text: str | None) -> str:
    safe = terminal_safe(text or "")
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", safe)


def junit_xml(report: CheckReport) -> bytes:
    """JUnit XML: one test case per file; failures for rejections, errors for errors."""
    totals = report.totals
    suite = ET.Element(
        "testsuite",
        {
            "name": "pgpverify check",
            "tests": str(len(report.files)),
            "failures": str(totals["rejected"]),
            "errors": str(totals["error"]),
            "skipped": "0",
        },
    )
    for item in report.files:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": _xml(f"pgpverify.{item.project or 'unknown'}"),
                "name": _xml(_name(item)),
            },
        )
        if item.status is Status.REJECTED:
            failure = ET.SubElement(
                case, "failure", {"type": _xml(item.reason), "message": _xml(item.message)}
            )
            failure.text = _xml(item.message)
        elif item.status is Status.ERROR:
            error = ET.SubElement(
                case, "error", {"type": _xml(item.reason), "message": _xml(item.message)}
            )
            error.text = _xml(item.message)
        notes = [f"{item.status.value}: {item.reason}: {item.message}", *item.warnings]
        if item.backsigned:
            notes.append("backsigned")
        ET.SubElement(case, "system-out").text = "\n".join(_xml(n) for n in notes)
    suites = ET.Element("testsuites")
    suites.append(suite)
    written: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return written + b"\n"
