"""The command line never crashes: any argv gives exit 0, 1 or 2 and no traceback.

Arguments are odd strings (empty, control and bidi characters, newlines, undecodable file
name bytes as ``os.fsdecode`` gives them, very long names, option look-alikes) mixed with
real paths, across ``verify``, ``lock`` and ``publish``. Whatever reaches stdout or stderr
is escaped for the terminal. Every run is offline-fast (no retries, short timeouts) and
writes only under a temporary working directory: an output path is always relative.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from pgpverify.cli import main

DEMO = Path(__file__).resolve().parent.parent.parent / "vectors" / "demo"
WHEEL = DEMO / "demo_pkg-1.0.0-py3-none-any.whl"
#: what terminal_safe escapes (textsafe.py): controls, format, surrogates, separators
UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}

SETTINGS = settings(
    max_examples=int(os.environ.get("PGPVERIFY_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _argv_safe(text: str) -> bool:
    """What a real argv can hold on POSIX: no NUL, surrogates only from undecodable bytes."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


ODD = [
    "",
    " ",
    ".",
    "./",
    "/",
    "..",
    "-",
    "--",
    "-x",
    "=",
    "@",
    "~",
    "%s",
    "{}",
    "\\",
    "\n",
    "a\nb",
    "\r",
    "\t",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x7f",
    "\x9b2J",
    "\u202e",
    "\u2066x\u2069",
    "\u200f",
    "\ufeff",
    "\u2028",
    "🦄",
    "Zoë",
    "李",
    "e\u0301",
    os.fsdecode(b"\xff\xfe"),
    os.fsdecode(b"name\x80.whl"),
    "x" * 300,
    "y" * 5000,
    "a/" * 600,
    "demo_pkg-1.0.0-py3-none-any.whl.asc",
    "demo-pkg",
    "Demo_Pkg",
    "pkg==1.0",
    "-e .",
    "2025-06-01",
    "2025-13-45T99:99:99Z",
    "nan",
    "inf",
    "-1",
    "1e400",
    "0",
    "99999999999",
    "text",
    "json",
    "http://",
    "https://",
    "http://[::1",
    "https://user:pw@",
    "file:///etc",
    "http://127.0.0.1:9/simple/",
    "https://index.invalid/simple/",
    "https://\u202e/",
]
ODD_TEXT = st.sampled_from(ODD) | st.text(max_size=40).filter(_argv_safe)
#: read-only inputs may be absolute and real
READ = ODD_TEXT | st.sampled_from(
    [
        str(WHEEL),
        f"{WHEEL}.asc",
        str(DEMO / "keyring.asc"),
        str(DEMO / "owners"),
        str(DEMO / "owners" / "demo-pkg.json"),
        str(DEMO),
        "/dev/null",
        "/etc/passwd",
        "/proc",
    ]
)
#: outputs (and the cache) stay under the temporary working directory
WRITE = ODD_TEXT.filter(lambda s: not s.startswith(("/", "~")) and ".." not in s)

COMMON = [
    ("--index-url", READ),
    ("--keys-url", READ),
    ("--cache-dir", WRITE),
    ("--no-cache", None),
    ("--offline", None),
    ("--not-found-ttl", ODD_TEXT),
    ("--timeout", ODD_TEXT),
    ("--retries", ODD_TEXT),
    ("--cert", READ),
    ("--allow-insecure", None),
]
OPTIONS = {
    "verify": [
        ("--signature", READ),
        ("--keyring", READ),
        ("--keyring", READ),
        ("--project", READ),
        ("--owners", READ),
        ("--lock", READ),
        ("--at", ODD_TEXT),
        ("--format", ODD_TEXT),
        ("--fail-on-key-change", None),
        *COMMON,
    ],
    "lock": [("-r", READ), ("--requirement", READ), ("-o", WRITE), *COMMON],
    "publish": [("--keys", READ), ("--owners", READ), ("-o", WRITE), ("--output", WRITE)],
}
POSITIONAL = {"verify": READ, "lock": ODD_TEXT | READ, "publish": ODD_TEXT}
#: appended last, so they win: no retry back-off, no wait on a server
FAST = {
    "verify": ["--retries", "0", "--timeout", "1"],
    "lock": ["--retries", "0", "--timeout", "1"],
    "publish": [],
}


@st.composite
def argv(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    args = [command]
    args += draw(st.lists(POSITIONAL[command], max_size=3))
    for option, value in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=5)):
        args.append(option)
        if value is not None:
            args.append(draw(value))
    if draw(st.booleans()):
        args = args[:1] + draw(st.permutations(args[1:]))
    return args + FAST[command]


#: good command lines: one or two of their words are swapped for odd ones, so runs get past
#: argparse into keyrings, records, the cache, locks and publishing
TEMPLATES = [
    [
        "verify",
        str(WHEEL),
        "--keyring",
        str(DEMO / "keyring.asc"),
        "--at",
        "2025-06-01",
        "--project",
        "demo-pkg",
        "--owners",
        str(DEMO / "owners" / "demo-pkg.json"),
    ],
    ["verify", str(WHEEL), "--keyring", str(DEMO / "keyring.asc"), "--format", "json"],
    [
        "verify",
        str(WHEEL),
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--offline",
        "--cache-dir",
        "cache",
    ],
    [
        "lock",
        "demo-pkg",
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--offline",
        "--cache-dir",
        "cache",
        "-o",
        "out.lock",
    ],
    ["publish", "--keys", str(DEMO), "--owners", str(DEMO / "owners"), "-o", "out"],
]


@st.composite
def near_valid_argv(draw):
    args = list(draw(st.sampled_from(TEMPLATES)))
    values = [i for i, arg in enumerate(args) if i > 0 and not arg.startswith("-")]
    for _ in range(draw(st.integers(1, 2))):
        where = draw(st.sampled_from(values))
        odd = draw(WRITE if args[where - 1] in {"-o", "--cache-dir"} else READ)
        if draw(st.integers(0, 3)):
            args[where] = odd
        else:  # an extra word: mostly "unrecognized arguments"
            args.insert(where, odd)
    return args + FAST[args[0]]


def _check_run(capsys, args):
    code = main(args)
    out, err = capsys.readouterr()
    event(f"exit {code}")
    assert code in {0, 1, 2}, (code, err[:500])
    assert "Traceback" not in out + err
    assert "internal error" not in err, err[:500]
    for char in (out + err).replace("\n", ""):
        unsafe = unicodedata.category(char) in UNSAFE_CATEGORIES and char not in "\u200c\u200d"
        assert not unsafe, (repr(char), err[:500])


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@SETTINGS
@given(args=argv())
@example(args=["verify", ""])
@example(args=["verify", "/"])
@example(args=["verify", "y" * 5000, "--keyring", str(DEMO / "keyring.asc")])
@example(args=["verify", os.fsdecode(b"\xff.whl"), "--index-url", "https://\u202e/", "--offline"])
@example(
    args=[
        "lock",
        "-o",
        "y" * 5000,
        "demo-pkg",
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--retries",
        "0",
    ]
)
@example(args=["lock", "-o", "", "x", "--index-url", "http://127.0.0.1:9/simple/"])
@example(args=["publish", "--keys", "", "--owners", "", "-o", ""])
@example(args=["publish", "--keys", str(DEMO), "--owners", str(DEMO / "owners"), "-o", "a\nb"])
def test_cli_never_crashes_on_odd_argv(capsys, workdir, args):
    _check_run(capsys, args)


@SETTINGS
@given(args=near_valid_argv())
def test_cli_never_crashes_on_a_good_command_line_with_odd_words(capsys, workdir, args):
    _check_run(capsys, args)
