"""pgpverify.check.report: hostile names are shown, never obeyed, in every format."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pgpverify.check.model import CheckReport, FileCheck, Status
from pgpverify.check.report import github_lines, github_summary, junit_xml, text_lines

HOSTILE = "evil\x1b[32m\n::error ::forged\u202e%0A,x:y<b>|`\ufffe\udcff-1.0-py3-none-any.whl"


def _report() -> CheckReport:
    return CheckReport(
        files=(
            FileCheck(
                file="/w/good-1.0-py3-none-any.whl",
                status=Status.GOOD,
                reason="good",
                message="good signature",
                project="good",
                version="1.0",
                maintainer="alice",
                role="Owner",
                backsigned=True,
                warnings=("backsigned: made later",),
            ),
            FileCheck(
                file=f"/w/{HOSTILE}",
                status=Status.REJECTED,
                reason="bad-signature",
                message=f"bad math on {HOSTILE}",
                project="evil",
            ),
            FileCheck(
                file="/w/gone-1.0.tar.gz",
                status=Status.ERROR,
                reason="error",
                message="connection reset",
            ),
            FileCheck(
                file="/w/plain-1.0.tar.gz",
                status=Status.UNSIGNED,
                reason="unsigned",
                message="no signature",
            ),
        )
    )


def test_report_totals_and_exit_code():
    report = _report()
    assert report.totals == {"good": 1, "unsigned": 1, "rejected": 1, "error": 1}
    assert not report.ok
    assert report.exit_code == 2
    assert CheckReport(files=report.files[:2]).exit_code == 1
    assert CheckReport(files=(report.files[0], report.files[3])).exit_code == 0


def test_text_lines_escape_hostile_names():
    lines = text_lines(_report())
    text = "\n".join(lines)
    for raw in ("\x1b", "\u202e", "\udcff"):
        assert raw not in text
    assert "\\x1b[32m\\n::error" in text
    assert lines[-1].startswith("FAILED: 4 file(s): 1 good, 1 unsigned, 1 rejected, 1 error")
    assert all("\n" not in line for line in lines)


def test_text_lines_quiet_keeps_failures_and_totals():
    lines = text_lines(_report(), quiet=True)
    assert not any(line.startswith("file ") for line in lines)
    assert any(line.startswith("REJECTED") for line in lines)
    assert not any("plain-1.0" in line for line in lines)


def test_github_lines_cannot_forge_a_command():
    lines = github_lines(_report())
    for line in lines:
        assert "\n" not in line
        assert "\r" not in line
        assert line.startswith(("::error ", "::warning ", "::notice "))
    error = next(line for line in lines if "bad-signature" in line)
    head, _, message = error.partition("::")[2].partition("::")
    # the file name's own ':' and ',' are encoded in the property, '%' everywhere
    assert head.startswith("error file=/w/evil")
    assert "%3A%3Aerror %3A%3Aforged" in head
    assert "%2C" in head
    assert "%250A" in message


def test_github_summary_escapes_markdown_and_html():
    summary = github_summary(_report())
    assert "<b>" not in summary
    assert "&lt;b&gt;" in summary
    assert "\\|" in summary
    assert summary.count("\n| ") == 5  # header and one row per file


def test_junit_xml_is_valid_and_escaped():
    data = junit_xml(_report())
    root = ET.fromstring(data)
    (suite,) = root
    assert suite.attrib["tests"] == "4"
    assert suite.attrib["failures"] == "1"
    assert suite.attrib["errors"] == "1"
    cases = suite.findall("testcase")
    assert len(cases) == 4
    assert cases[1].find("failure").attrib["type"] == "bad-signature"
    assert cases[2].find("error") is not None
    assert "\\ufffe" in cases[1].attrib["name"]
    assert "\x1b" not in data.decode()


def test_text_lines_are_a_table_with_the_issue_columns_and_totals():
    report = _report()
    lines = text_lines(report)
    header = lines[0].split()
    assert header == [
        "file",
        "project",
        "version",
        "status",
        "reason",
        "signer",
        "role",
        "backsigned",
    ]
    rows = lines[1 : 1 + len(report.files)]
    # every column starts where its header starts (names padded, none longer than a cell)
    starts = [lines[0].index(name) for name in header]
    good = rows[0]
    assert good.split() == [
        "good-1.0-py3-none-any.whl",
        "good",
        "1.0",
        "GOOD",
        "good",
        "alice",
        "Owner",
        "YES",
    ]
    for column, start in zip(header[1:], starts[1:], strict=True):
        assert good[start - 2 : start] == "  ", column
    assert rows[3].split()[3:5] == ["UNSIGNED", "unsigned"]
    assert lines[-1] == "FAILED: 4 file(s): 1 good, 1 unsigned, 1 rejected, 1 error(s)"
