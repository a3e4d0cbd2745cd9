"""The audit's HTML report as a person sees it: rendered in headless Chromium.

Chromium (Debian package ``chromium``) takes a screenshot of the report of the fixture
index; the PNG must not be blank and must show the charts (the green of ``good`` over a
large area, and several other category colours). Skipped when Chromium is absent, unless
CI=true, where a missing Chromium fails.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib

import pytest
from auditindex import build_index

from pgpverify.cli import main

CHROMIUM = next(
    (
        p
        for p in (
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
            shutil.which("google-chrome"),
        )
        if p
    ),
    None,
)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8
            assert interlace == 0
            bpp = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.mark.slow
def test_audit_report_renders_in_chromium_with_its_charts(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (CI installs the Debian package chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    build_index(tmp_path / "mirror")
    db, page = tmp_path / "a.sqlite", tmp_path / "report.html"
    assert (
        main(
            [
                "audit",
                "run",
                "--mirror",
                str(tmp_path / "mirror"),
                "--db",
                str(db),
                "--all",
                "--at",
                "2025-06-01T00:00:00Z",
            ]
        )
        == 0
    )
    assert main(["audit", "report", "--db", str(db), "--html", str(page)]) == 0
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1000,1900",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    width, height, bpp, rows = decode_png(shot.read_bytes())
    assert (width, height) == (1000, 1900)
    colours: set[bytes] = set()
    green = other = 0
    for row in rows[::2]:
        for x in range(0, width * bpp, bpp * 2):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add(bytes((r >> 4, g >> 4, b >> 4)))
            if g > r + 30 and g > b + 30:
                green += 1  # the "good" bars
            elif max(r, g, b) - min(r, g, b) > 60:
                other += 1
    assert len(colours) > 40, "the screenshot is blank"
    assert green > 5_000, "the category chart is missing"
    assert other > 5_000, "the algorithm chart or the other categories are missing"
