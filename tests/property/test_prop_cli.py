"""The command line never crashes: any argv gives exit 0, 1 or 2 and no traceback.

Arguments are odd strings (empty, control and bidi characters, newlines, undecodable file
name bytes as ``os.fsdecode`` gives them, very long names, option look-alikes) mixed with
real paths, across ``verify``, ``lock`` and ``publish``, and across ``check``, ``install``
and ``audit run|report|merge|export-signatures`` in a world of odd inputs (a wheelhouse
with odd file names, odd ``.asc`` files, hostile requirements files and pip
configurations, garbage, truncated, foreign and directory audit stores, odd job summary
paths and environment). Whatever reaches stdout or stderr is escaped for the terminal.
Every run is offline-fast (an index at a closed port, no retries, short timeouts) and
writes only under a temporary working directory: an output path is always relative. pip
is a stand-in that exits at once, except in a few runs with the real one, which must
install nothing anywhere (``--target`` in the working directory; the venv is compared).
"""

from __future__ import annotations

import os
import sysconfig
import unicodedata
from pathlib import Path

import pytest
from auditindex import build_index
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


# -- check, install and audit ---------------------------------------------------------------

#: a stand-in for ``python -m pip`` (sys.executable): it installs nothing, anywhere; for
#: ``download`` it drops the demo wheel into ``--dest``, as pip would fetch it
FAKE_PIP = f"""#!/bin/sh
while [ $# -gt 0 ]; do
  if [ "$1" = --dest ] && [ -d "$2" ]; then cp '{WHEEL}' "$2"/; fi
  shift
done
exit 0
"""
#: hostile requirement files (relative to the working directory the world is built in)
REQUIREMENTS = {
    "good.txt": b"demo-pkg==1.0.0\n",
    "nul.txt": b"demo-pkg\x00==1.0.0\n\x00\x00",
    "utf16.txt": "demo-pkg==1.0.0\n".encode("utf-16"),
    "latin1.txt": b"d\xe9mo==1\n\xff\xfe\n",
    "huge.txt": b"demo-pkg" + b"x" * 300_000 + b"\n",
    "self.txt": b"-r self.txt\ndemo-pkg\n",
    "loop.txt": b"-r self.txt\n-c loop.txt\n--requirement=loop.txt\n",
    "options.txt": (
        b"--index-url http://127.0.0.1:9/x/\n--extra-index-url https://\xe2\x80\xae/\n"
        b"-e .\n--hash=sha256:zz\n-f /\n--trusted-host x\n--no-index\n--pre\n"
    ),
    "controls.txt": "demo-pkg \x1b[31m\u202e==1 ; \x07\r\nx @ file:///etc\n".encode(),
    "url.txt": b"demo-pkg @ http://127.0.0.1:9/demo_pkg-1.0.0-py3-none-any.whl\n",
    "empty.txt": b"",
    "continued.txt": b"demo-pkg\\\n\\\n\\",
    "-r": b"-r -r\n",
}
#: odd file names in a wheelhouse; each gets junk, one is the demo wheel under its own name
HOUSE = [
    os.fsdecode(b"\xff\xfe-1.0-py3-none-any.whl"),
    "a\nb-1.0-py3-none-any.whl",
    "\x1b[31mred-1.0.tar.gz",
    "\u202egnp.1.0-py3-none-any.whl",
    "x" * 240 + ".whl",
    "demo_pkg-1.0.0-py3-none-" + "a" * 226 + ".whl",  # 255 octets: no room for ".asc"
    "--help",
    "-r",
    "empty-1.0.tar.gz",
    "demo_pkg-2.0.0-py3-none-any.whl",
    "demo_pkg-1.0.0.zip",
    "demo-pkg-1.0.0.tar.gz",
    "Zoë-1.0-py3-none-any.whl",
]


def _build_world(root: Path) -> None:
    """A wheelhouse, signatures, requirement files and audit stores, all odd, under root."""
    import shutil
    import sqlite3

    house, sigs, req, db = (root / n for n in ("house", "sigs", "req", "db"))
    for folder in (house, sigs, req, db):
        folder.mkdir(parents=True)
    shutil.copy(WHEEL, house)
    shutil.copy(f"{WHEEL}.asc", sigs)
    (house / "sub").mkdir()
    (house / "loop").symlink_to("loop")
    (house / "dangling.whl").symlink_to("/nonexistent/x.whl")
    for name in HOUSE:
        (house / name).write_bytes(b"" if "empty" in name else b"PK\x03\x04junk" * 10)
        if len(os.fsencode(name)) < 250:
            (sigs / f"{name}.asc").write_bytes(b"-----BEGIN PGP SIGNATURE-----\n\x00\xff\n")
    (sigs / "demo_pkg-2.0.0-py3-none-any.whl.asc").write_bytes(Path(f"{WHEEL}.asc").read_bytes())
    (sigs / "empty-1.0.tar.gz.asc").unlink()
    (sigs / "empty-1.0.tar.gz.asc").mkdir()  # a directory where a signature goes
    for name, data in REQUIREMENTS.items():
        (req / name).write_bytes(data)
    (req / "dir.txt").mkdir()
    (root / "pipconf").mkdir()
    for name, data in PIP_CONFIGS.items():
        (root / "pipconf" / name).write_bytes(data)
    fake = root / "fake-pip"
    fake.write_text(FAKE_PIP, encoding="utf-8")
    fake.chmod(0o755)
    good = db / "good.sqlite"
    build_index(root / "mirror")  # every audit category, with its pgp/ tree: also an index
    at = "2025-06-01T00:00:00Z"
    code = main(
        ["audit", "run", "--mirror", str(root / "mirror"), "--db", str(good), "--all", "--at", at]
    )
    assert code == 0
    data = good.read_bytes()
    (db / "truncated.sqlite").write_bytes(data[:1500])
    (db / "garbage.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    (db / "empty.sqlite").write_bytes(b"")
    (db / "dir.sqlite").mkdir()
    other = sqlite3.connect(db / "other.sqlite")
    with other:
        other.execute("CREATE TABLE files (id INTEGER, name BLOB)")
        other.execute("INSERT INTO files VALUES (1, x'ff00')")
    other.close()
    (db / "text.sqlite").write_text("not a database\n", encoding="utf-8")


HOUSE_PATHS = ["house", "house/sub", "house/loop", *(f"house/{n}" for n in HOUSE)]
REQ_PATHS = [f"req/{n}" for n in REQUIREMENTS] + ["req/dir.txt", "req/missing.txt"]
DB_PATHS = [f"db/{n}.sqlite" for n in ("good", "truncated", "garbage", "empty", "dir", "other")]
DB_PATHS += ["db/text.sqlite", "db/new.sqlite", "db"]
#: inputs of the check world, and odd words
CHECK_READ = READ | st.sampled_from(
    [
        *HOUSE_PATHS,
        *REQ_PATHS,
        "sigs",
        "sigs/" + HOUSE[0] + ".asc",
        "mirror",
        "mirror/simple",
        "mirror/packages",
        "mirror/pgp",
        "/dev/full",
    ]
)
STORE = st.sampled_from(DB_PATHS) | ODD_TEXT
STORE_WRITE = st.sampled_from(DB_PATHS) | WRITE
EXTREME_TIMES = st.sampled_from(
    ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "1970-01-01"]
)
CHECK_OPTIONS = [
    ("-r", st.sampled_from(REQ_PATHS) | READ),
    ("--requirement", CHECK_READ),
    ("--dest", WRITE),
    ("--lock", CHECK_READ),
    ("--keyring", st.just(str(DEMO / "keyring.asc")) | READ),
    ("--owners", CHECK_READ),
    ("--signatures-dir", st.sampled_from(["sigs", "house", "req"]) | READ),
    ("--require-signatures", None),
    ("--require-signatures-for", ODD_TEXT),
    ("--reject-backsigned", None),
    ("--backsign-grace", ODD_TEXT | st.sampled_from(["0", "876000", "876001"])),
    ("--at", ODD_TEXT | EXTREME_TIMES),
    ("--fail-on-key-change", None),
    ("--jobs", ODD_TEXT | st.sampled_from(["1", "64", "65"])),
    ("--format", st.sampled_from(["text", "json", "github"]) | ODD_TEXT),
    ("--junit-xml", WRITE | st.sampled_from(["house", "/dev/full", "req/good.txt/x"])),
    ("--quiet", None),
    *COMMON,
]
AUDIT_NET = [
    ("--keys-url", READ),
    ("--timeout", ODD_TEXT),
    ("--retries", ODD_TEXT),
    ("--cert", READ),
    ("--allow-insecure", None),
]
CHECK_COMMANDS = {
    "check": (CHECK_OPTIONS, CHECK_READ, ["--retries", "0", "--timeout", "1"]),
    "install": (
        [*CHECK_OPTIONS, ("--", ODD_TEXT | st.just("--target=target"))],
        CHECK_READ,
        ["--retries", "0", "--timeout", "1"],
    ),
    "audit run": (
        [
            ("--index-url", READ),
            ("--mirror", st.just("mirror") | CHECK_READ),
            ("--from-store", None),
            ("--db", STORE_WRITE),
            ("--all", None),
            ("--jobs", ODD_TEXT),
            ("--shard", ODD_TEXT | st.sampled_from(["1/2", "0/0", "3/2"])),
            ("--since", ODD_TEXT),
            ("--backsign-grace", ODD_TEXT),
            ("--max-rps", ODD_TEXT | st.sampled_from(["1e-300", "0.0001", "1e308", "-0"])),
            ("--at", ODD_TEXT | EXTREME_TIMES),
            ("--format", st.sampled_from(["text", "json"]) | ODD_TEXT),
            *AUDIT_NET,
        ],
        ODD_TEXT | st.just("demo-pkg"),
        ["--retries", "0", "--timeout", "1"],
    ),
    "audit report": (
        [
            ("--db", STORE),
            ("--html", WRITE),
            ("--json", WRITE | st.just("-")),
            ("--csv", WRITE),
        ],
        ODD_TEXT,
        [],
    ),
    "audit merge": ([("-o", STORE_WRITE), ("--output", STORE_WRITE)], STORE, []),
    "audit export-signatures": ([("--db", STORE)], WRITE, []),
}


_KEYRING = ["--keyring", str(DEMO / "keyring.asc"), "--signatures-dir", "sigs"]
_INDEX = ["--index-url", "http://127.0.0.1:9/simple/", "--cache-dir", "cache"]
_REQ = st.sampled_from(REQ_PATHS)
#: what gets a command past its usage checks, half the time (odd words then go deeper)
BASES = {
    "check": st.one_of(
        st.tuples(st.just(_KEYRING), st.sampled_from(HOUSE_PATHS)).map(lambda t: [*t[0], t[1]]),
        st.sampled_from(HOUSE_PATHS).map(lambda p: [*_INDEX, "--offline", p]),
        _REQ.map(lambda r: [*_INDEX, "--offline", "-r", r]),
    ),
    "install": st.one_of(
        _REQ.map(lambda r: [*_INDEX, "-r", r]), _REQ.map(lambda r: [*_KEYRING, "-r", r])
    ),
    "audit run": st.one_of(
        STORE_WRITE.map(lambda db: ["--mirror", "mirror", "--db", db, "--all"]),
        STORE.map(lambda db: ["--from-store", "--db", db]),
    ),
    "audit report": STORE.map(lambda db: ["--db", db]),
    "audit merge": STORE_WRITE.map(lambda db: ["-o", db]),
    "audit export-signatures": STORE.map(lambda db: ["--db", db, "exported"]),
}


@st.composite
def check_argv(draw):
    command = draw(st.sampled_from(sorted(CHECK_COMMANDS)))
    options, positional, fast = CHECK_COMMANDS[command]
    words = command.split()
    args = draw(BASES[command]) if draw(st.booleans()) else []
    args += draw(st.lists(positional, max_size=3))
    for option, value in draw(st.lists(st.sampled_from(options), max_size=6)):
        args.append(option)
        if value is not None:
            args.append(draw(value))
    if draw(st.booleans()):
        args = draw(st.permutations(args))
    return words + args + fast


#: good command lines of the check world (relative paths: run in its directory)
CHECK_TEMPLATES = [
    [
        "check",
        "house",
        "--keyring",
        str(DEMO / "keyring.asc"),
        "--signatures-dir",
        "sigs",
        "--owners",
        str(DEMO / "owners" / "demo-pkg.json"),
        "--at",
        "2025-06-01",
        "--format",
        "github",
        "--junit-xml",
        "out.xml",
    ],
    [
        "check",
        "house",
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--offline",
        "--format",
        "json",
    ],
    [
        "check",
        "-r",
        "req/good.txt",
        "--dest",
        "kept",
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--offline",
        "--cache-dir",
        "cache",
    ],
    [
        "install",
        "-r",
        "req/good.txt",
        "--index-url",
        "http://127.0.0.1:9/simple/",
        "--cache-dir",
        "cache",
        "--",
        "--target",
        "target",
    ],
    [
        "install",
        "-r",
        "req/good.txt",
        "--keyring",
        str(DEMO / "keyring.asc"),
        "--signatures-dir",
        "sigs",
        "--",
        "--target",
        "target",
    ],
    [
        "audit",
        "run",
        "--mirror",
        "mirror",
        "--db",
        "db/good.sqlite",
        "good-00",
        "--since",
        "2020-01-01",
    ],
    ["audit", "run", "--mirror", "mirror", "--db", "db/new.sqlite", "--all", "--shard", "1/2"],
    [
        "check",
        "mirror/packages",
        "--index-url",
        "mirror/simple",
        "--cache-dir",
        "cache",
        "--at",
        "2025-06-01",
    ],
    [
        "check",
        "mirror/packages/good-00",
        "--index-url",
        "mirror/simple",
        "--no-cache",
        "--format",
        "github",
        "--require-signatures",
    ],
    ["audit", "run", "--from-store", "--db", "db/good.sqlite", "--at", "2025-06-01"],
    ["audit", "report", "--db", "db/good.sqlite", "--json", "-", "--csv", "out.csv"],
    ["audit", "merge", "-o", "merged.sqlite", "db/good.sqlite", "db/good.sqlite"],
    ["audit", "export-signatures", "--db", "db/good.sqlite", "exported"],
]
#: words after these are written (relative, under the working directory)
_WRITES = {"-o", "--dest", "--junit-xml", "--cache-dir", "--html", "--csv", "--target"}


@st.composite
def near_valid_check_argv(draw):
    args = list(draw(st.sampled_from(CHECK_TEMPLATES)))
    first = 2 if args[0] == "audit" else 1
    values = [i for i, arg in enumerate(args) if i >= first and not arg.startswith("-")]
    for _ in range(draw(st.integers(1, 2))):
        where = draw(st.sampled_from(values))
        before = args[where - 1]
        if before in _WRITES:
            odd = draw(WRITE)
        elif before in {"--at", "--since"}:
            odd = draw(EXTREME_TIMES | ODD_TEXT)
        elif before in {"--db", "-o"} or args[0] == "audit":
            odd = draw(STORE)
        else:
            odd = draw(CHECK_READ)
        if draw(st.integers(0, 3)):
            args[where] = odd
        else:
            args.insert(where, odd)
    fast = CHECK_COMMANDS[" ".join(args[:2]) if args[0] == "audit" else args[0]][2]
    if "--" in args:  # install: ours before the pip arguments
        cut = args.index("--")
        return args[:cut] + fast + args[cut:]
    return args + fast


#: where a github job summary may be asked to go
SUMMARIES = st.sampled_from(
    ["", "summary.md", "house", "nonexistent/dir/x.md", "/dev/full", "req/good.txt/x", "sigs"]
) | WRITE.filter(lambda s: s != "")
#: pip configuration files of the world (where no --index-url is given, the index is pip's)
PIP_CONFIGS = {
    "odd.conf": "[global]\nindex-url = \x1b[31mhttp://127.0.0.1:9/\u202e/\n".encode(),
    "binary.conf": b"\x00\xff\xfe[global\n",
    "utf16.conf": "[global]\nindex-url=http://127.0.0.1:9/simple/\n".encode("utf-16"),
    "interpolation.conf": b"[global]\nindex-url = %(x)s\n",
    "bare.conf": b"[global]\nindex-url\n",
    "twice.conf": b"[global]\nindex-url = a\nindex-url = b\n",
    "install.conf": b"[install]\nindex-url = http://127.0.0.1:9/simple/\n[global]\nindex-url=\n",
}
#: the environment a run sees: the job summary, and sometimes odd values of what it reads
ENVIRONMENTS = st.fixed_dictionaries(
    {"GITHUB_STEP_SUMMARY": SUMMARIES},
    optional={
        "PIP_INDEX_URL": READ,
        "PIP_CONFIG_FILE": st.sampled_from([f"pipconf/{n}" for n in PIP_CONFIGS]) | READ,
        "COLUMNS": ODD_TEXT | st.sampled_from(["0", "-5", "1", "99999999999999999999"]),
        "JOB_COMPLETION_INDEX": ODD_TEXT | st.sampled_from(["0", "1", "5"]),
        "JOB_COMPLETION_COUNT": ODD_TEXT | st.sampled_from(["0", "2", "999999"]),
    },
)


@pytest.fixture
def check_world(tmp_path, monkeypatch):
    """The workdir with the world in it; pip is the stand-in, the summary unset."""
    monkeypatch.chdir(tmp_path)
    _build_world(tmp_path)
    monkeypatch.setattr("sys.executable", str(tmp_path / "fake-pip"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return tmp_path


def _installed_nothing(root: Path) -> None:
    for name in ("target", "t2"):
        target = root / name
        assert not target.exists() or not any(target.iterdir()), sorted(target.iterdir())


def _run_with(capsys, monkeypatch, args, environ):
    with monkeypatch.context() as env:
        for name, value in environ.items():
            env.setenv(name, value)
        _check_run(capsys, args)


@SETTINGS
@given(args=check_argv(), environ=ENVIRONMENTS)
@example(args=["check", "house", "--keyring", "x", "--signatures-dir", "sigs"], environ={})
@example(args=["audit", "report", "--db", "db/truncated.sqlite"], environ={})
@example(args=["check", "house", *_KEYRING], environ={})  # ENAMETOOLONG looking up an .asc
@example(  # the token bucket's sleep overflowed
    args=[
        "audit",
        "run",
        "--mirror",
        "mirror",
        "--db",
        "db/new.sqlite",
        "--all",
        "--max-rps",
        "1e-300",
    ],
    environ={},
)
def test_cli_check_install_audit_never_crash_on_odd_argv(
    capsys, check_world, monkeypatch, args, environ
):
    _run_with(capsys, monkeypatch, args, environ)


@SETTINGS
@given(args=near_valid_check_argv(), environ=ENVIRONMENTS)
@example(  # ENAMETOOLONG from the mirror's simple/ lookup
    args=["audit", "run", "--mirror", "mirror", "--db", "db/good.sqlite", "x" * 300], environ={}
)
def test_cli_check_install_audit_never_crash_on_a_good_command_line_with_odd_words(
    capsys, check_world, monkeypatch, args, environ
):
    _run_with(capsys, monkeypatch, args, environ)


#: install with the real pip, which starts an interpreter per run: few examples
PIP_SETTINGS = settings(SETTINGS, max_examples=max(4, SETTINGS.max_examples // 40))
PIP_TEMPLATES = [
    [
        "install",
        "-r",
        "req/good.txt",
        *_INDEX,
        "--retries",
        "0",
        "--timeout",
        "1",
        "--",
        "--target",
        "target",
    ],
    [
        "install",
        "-r",
        "req/good.txt",
        *_KEYRING,
        "--",
        "--target",
        "target",
    ],
]


#: words after '--' for the real pip: odd ones, none an option but these
PIP_WORDS = st.sampled_from(
    [w for w in ODD if not w.startswith("-") or w in {"-", "--", "-x", "-e ."}]
    + ["--\x1b[31mx", "--target=t2", "--no-deps", "--pre", "--only-binary=:all:"]
)


@st.composite
def near_valid_install_argv(draw):
    args = list(draw(st.sampled_from(PIP_TEMPLATES)))
    cut = args.index("--")
    where = draw(st.sampled_from([i for i in range(1, cut) if not args[i].startswith("-")]))
    odd = draw(WRITE if args[where - 1] in _WRITES else CHECK_READ)
    if draw(st.integers(0, 3)):
        args[where] = odd
    else:
        args.insert(where, odd)
    if draw(st.booleans()):  # an odd word for pip itself (never an option that installs)
        args.append(draw(PIP_WORDS))
    return args


@PIP_SETTINGS
@given(args=near_valid_install_argv())
@example(args=PIP_TEMPLATES[0])
@example(args=PIP_TEMPLATES[1])
@example(args=["install", "-r", "http://", *_KEYRING, "--", "--target", "target"])  # pip: URL
@example(args=["install", "-r", str(WHEEL), *_KEYRING, "--", "--target", "target"])  # pip: bytes
@example(  # pip echoed the line with its control characters
    args=["install", "-r", f"house/{HOUSE[0]}", *_INDEX, "--", "--target", "target"]
)
def test_cli_install_with_real_pip_never_crashes_nor_installs(capsys, workdir, args):
    """pip really runs (``--target`` in the workdir, no retries): nothing lands anywhere."""
    _build_world_once(workdir)
    site = Path(sysconfig.get_paths()["purelib"])
    before = sorted(site.iterdir())
    with pytest.MonkeyPatch.context() as env:  # pip's own index (--keyring): none there
        env.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
        env.setenv("PIP_RETRIES", "0")
        _check_run(capsys, args)
    assert sorted(site.iterdir()) == before
    _installed_nothing(workdir)


def _build_world_once(root: Path) -> None:
    if not (root / "house").exists():
        _build_world(root)
