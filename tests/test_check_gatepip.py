"""pgpverify.check.gatepip: what pip may be given when its only index is the gate."""

from __future__ import annotations

import codecs
import os

import pytest

from pgpverify.check import gatepip
from pgpverify.check.gatepip import TopRequirement, pip_environment, scan_pip_options
from pgpverify.errors import InputError
from pgpverify.limits import Limits

SAFE = [
    "--target",
    "/tmp/t",
    "-q",
    "-qU",
    "--no-deps",
    "--only-binary=:all:",
    "-t",
    "dir",
    "-tdir",
    "--prefix",
    "/p",
    "--upgrade-strategy",
    "eager",
    # a value that looks like an option is still the value of the option before it
    "--report",
    "--index-url",
]


def test_scan_pip_options_passes_the_allow_listed_options():
    assert scan_pip_options(SAFE) == (None, None)
    assert scan_pip_options([]) == (None, None)


@pytest.mark.parametrize(
    "args",
    [
        ["--index-url", "http://evil.test/simple/"],
        ["--index-url=http://evil.test/simple/"],
        ["-i", "http://evil.test/simple/"],
        ["-ihttp://evil.test/simple/"],
        ["--extra-index-url", "http://evil.test/simple/"],
        ["--extra-index", "http://evil.test/simple/"],  # optparse takes abbreviations
        ["--find-links", "/tmp/wheels"],
        ["-f", "/tmp/wheels"],
        ["-qf", "/tmp/wheels"],
        ["--no-index"],
        ["--target", "t", "--find-links=/tmp/wheels"],
    ],
)
def test_scan_pip_options_rejects_an_option_that_adds_a_source(args):
    refusal, _ = scan_pip_options(args)
    assert refusal is not None
    assert "another package source" in refusal


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (["-r", "more.txt"], "-r"),
        (["-e", "."], "-e"),
        (["-c", "constraints.txt"], "-c"),
        (["./local.whl"], "./local.whl"),
        (["alpha"], "alpha"),
        (["--proxy", "http://proxy.test"], "--proxy"),
        (["--trusted-host", "evil.test"], "--trusted-host"),
        (["--no-deps=1"], "--no-deps=1"),
        (["--", "x"], "--"),
    ],
)
def test_scan_pip_options_sends_anything_unknown_to_the_two_passes(args, first):
    assert scan_pip_options(args) == (None, first)


def test_pip_environment_rejects_variables_that_add_sources():
    given = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "PIP_INDEX_URL": "http://evil.test/simple/",
        "PIP_EXTRA_INDEX_URL": "http://evil.test/simple/",
        "PIP_FIND_LINKS": "/tmp/wheels",
        "PIP_NO_INDEX": "1",
        "PIP_REQUIREMENT": "/tmp/more.txt",
        "PIP_CONSTRAINT": "/tmp/c.txt",
        "PIP_EDITABLE": ".",
        "PIP_PROXY": "http://proxy.test",
        "PIP_TRUSTED_HOST": "evil.test",
        "PIP_CONFIG_FILE": "/etc/evil.conf",
        "http_proxy": "http://proxy.test",
        "HTTPS_PROXY": "http://proxy.test",
        "ALL_PROXY": "socks5://proxy.test",
        "NO_PROXY": "",
        "PIP_CACHE_DIR": "/tmp/cache",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env = pip_environment(given)
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "PIP_CACHE_DIR": "/tmp/cache",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "NO_PROXY": "*",
        "no_proxy": "*",
    }


def _scan(tmp_path, text, **files):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(text)
    return gatepip.scan_requirements([reqs])


def test_scan_requirements_reads_plain_requirements(tmp_path):
    found, why = _scan(
        tmp_path,
        "# pinned\nAlpha_Pkg==1.0 --hash=sha256:" + "ab" * 32 + "\n"
        "beta[extra] >=2, <3  # comment\n"
        "--pre\n--only-binary :all:\n"
        "gamma; python_version < '3'\n"
        "delta; python_version >= '3'\n"
        "-r more.txt\n-c constraints.txt\n"
        "epsilon \\\n  ==4.0\n",
        **{"more.txt": "zeta\n", "constraints.txt": "eta==1\n"},
    )
    assert why is None
    assert found == [
        TopRequirement("alpha-pkg", "==1.0"),
        TopRequirement("beta", ">=2, <3"),
        TopRequirement("delta", ""),
        TopRequirement("epsilon", "==4.0"),
        TopRequirement("zeta", ""),
    ]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("--extra-index-url http://evil.test/simple/", "--extra-index-url"),
        ("--index-url=http://evil.test/simple/", "--index-url"),
        ("-i http://evil.test/simple/", "-i"),
        ("-ihttp://evil.test/simple/", "-i"),
        ("--find-links /tmp/wheels", "--find-links"),
        ("-f /tmp/wheels", "-f"),
        ("--no-index", "--no-index"),
        ("--trusted-host evil.test", "--trusted-host"),
        ("--extra-index http://evil.test/", "--extra-index"),
        ("-e .", "-e"),
        ("-e git+https://evil.test/p.git#egg=p", "-e"),
        ("./local/project", "not a plain project requirement"),
        ("/tmp/alpha-1.0-py3-none-any.whl", "not a plain project requirement"),
        ("https://evil.test/alpha-1.0.tar.gz", "not a plain project requirement"),
        ("alpha @ https://evil.test/alpha-1.0.tar.gz", "direct URL"),
        ("alpha-1.0-py3-none-any.whl", "looks like a file name"),
        ("alpha.tar.gz", "looks like a file name"),
        ("${EVIL_INDEX}", "environment variable"),
        ("alpha --install-option=--prefix=/x", "per-requirement option"),
        ("-r https://evil.test/more.txt", "by URL"),
        ("-c HTTP:evil.test/more.txt", "by URL"),
        ("--requirement=file:more.txt", "by URL"),
    ],
)
def test_scan_requirements_rejects_a_line_the_gate_cannot_vouch_for(tmp_path, line, said):
    _, why = _scan(tmp_path, f"alpha\n{line}\n")
    assert why is not None
    assert said in why
    assert "requirements.txt:2" in why


def test_scan_requirements_rejects_a_source_in_a_nested_file(tmp_path):
    _, why = _scan(tmp_path, "alpha\n-r more.txt\n", **{"more.txt": "-f /tmp/wheels\n"})
    assert why is not None
    assert "more.txt:1" in why
    _, why = _scan(
        tmp_path, "alpha\n--constraint c.txt\n", **{"c.txt": "--extra-index-url http://e/\n"}
    )
    assert why is not None
    assert "c.txt:1" in why


def test_scan_requirements_rejects_oversized_and_missing_files(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("alpha\n" * 100)
    with pytest.raises(InputError, match="larger than"):
        gatepip.scan_requirements([big], limits=Limits(requirements_bytes=64))
    with pytest.raises(InputError, match="cannot read"):
        gatepip.scan_requirements([tmp_path / "missing.txt"])
    loop = tmp_path / "loop.txt"
    loop.write_text("-r loop.txt\nalpha\n")
    assert gatepip.scan_requirements([loop]) == ([TopRequirement("alpha", "")], None)


def test_listener_binds_loopback_with_a_fresh_token():
    first, second = gatepip.Listener(), gatepip.Listener()
    try:
        assert first.socket.getsockname()[0] == "127.0.0.1"
        assert first.index_url.startswith(f"http://127.0.0.1:{first.port}/")
        assert first.index_url.endswith("/simple/")
        assert first.token != second.token
        assert len(first.token) == 32
    finally:
        first.close()
        second.close()


def test_requirement_limits_are_the_limits_defaults():
    from pgpverify.limits import DEFAULT_LIMITS

    caps = gatepip.DEFAULT_REQUIREMENT_LIMITS
    assert caps.requirements_bytes == DEFAULT_LIMITS.requirements_bytes
    assert caps.requirements_files == DEFAULT_LIMITS.requirements_files
    assert caps.requirements_depth == DEFAULT_LIMITS.requirements_depth


TRICKY = [
    "# a comment ending in a backslash is never joined \\\n--index-url http://evil.test/\n",
    "alpha # a comment that swallows the next line \\\n--index-url http://evil.test/\n",
    "alp\\\nha\n",
    "alpha \\\n  --hash=sha256:" + "ab" * 32 + "\n",
    "  # indented comment \\\n-f /tmp/wheels\n",
    "alpha\\\n\\\n\\\n",
    "\\\n--no-index\n",
    "alpha\t# tab comment\n-i http://evil.test/ # trailing\n",
    "alpha\r\n# crlf \\\r\n--extra-index-url http://evil.test/\r\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_logical_lines_are_the_lines_pip_reads(text):
    # pip's own preprocessing (join_lines, ignore_comments) is the oracle
    req_file = pytest.importorskip("pip._internal.req.req_file")
    expected = [(n, line) for n, line in req_file.preprocess(text)]
    assert gatepip._logical_lines(text) == expected


def test_scan_requirements_rejects_an_option_after_a_comment_ending_in_a_backslash(tmp_path):
    _, why = _scan(tmp_path, TRICKY[0])
    assert why is not None
    assert "--index-url" in why
    assert "requirements.txt:2" in why
    found, why = _scan(tmp_path, TRICKY[1])  # the option is inside the comment: pip too
    assert (found, why) == ([TopRequirement("alpha", "")], None)


def test_scan_requirements_rejects_text_pip_might_decode_otherwise(tmp_path):
    reqs = tmp_path / "requirements.txt"
    reqs.write_bytes("--index-url http://evil.test/\nalpha\n".encode("utf-16"))
    _, why = gatepip.scan_requirements([reqs])
    assert why is not None
    assert "not UTF-8" in why
    reqs.write_bytes(b"\xef\xbb\xbfalpha\n")  # a UTF-8 byte order mark is fine
    assert gatepip.scan_requirements([reqs]) == ([TopRequirement("alpha", "")], None)


@pytest.mark.parametrize(
    "data",
    [
        b"demo==1\n",
        codecs.BOM_UTF8 + b"demo==1\n",
        "demo==1\n".encode("utf-16"),
        codecs.BOM_UTF16_BE + "demo==1\n".encode("utf-16-be"),
        "demo==1\n".encode("utf-32"),
        b"# -*- coding: latin-1 -*-\nd\xe9mo\n",
        b"",
        "d\u00e9mo==1\n".encode() * 10,
    ],
)
def test_refuse_unsafe_requirements_takes_what_pip_decodes(tmp_path, data):
    path = tmp_path / "requirements.txt"
    path.write_bytes(data)
    gatepip.refuse_unsafe_requirements([path])
    # cut inside a character by the size cap: still text
    gatepip.refuse_unsafe_requirements(
        [path], limits=gatepip._RequirementLimits(len(data) - 1, 8, 8)
    )


def test_refuse_unsafe_requirements_rejects_a_wheel_and_skips_what_is_no_regular_file(tmp_path):
    wheel = tmp_path / "a.whl"
    wheel.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x9a\x9b")
    with pytest.raises(InputError, match="not text pip can read"):
        gatepip.refuse_unsafe_requirements([wheel])
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # never opened for reading past the check: no writer, no hang
    gatepip.refuse_unsafe_requirements([fifo, tmp_path, tmp_path / "missing"])


def test_refuse_unsafe_requirements_takes_tabs_and_a_byte_order_mark(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_bytes(codecs.BOM_UTF8 + b"demo==1\t# pinned\r\nother\f\n")
    gatepip.refuse_unsafe_requirements([path])


def test_refuse_unsafe_requirements_rejects_a_nested_file_pip_cannot_decode(tmp_path):
    # a -r/-c file named by a requirements file is read by pip too: undecodable text there
    # stopped pip with its own traceback, after the top file passed
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "inner.txt").write_bytes(b"d\xe9mo==1\n")  # Latin-1 under a UTF-8 locale
    (sub / "middle.txt").write_text("-c inner.txt\n", encoding="utf-8")
    top = tmp_path / "top.txt"
    top.write_text("demo\n-r sub/middle.txt\n", encoding="utf-8")
    with pytest.raises(InputError, match="not text pip can read") as caught:
        gatepip.refuse_unsafe_requirements([top])
    assert caught.value.source == str(sub / "inner.txt")
    # the good twin: the same nesting, decodable, a loop and a URL beside it
    (sub / "inner.txt").write_text("demo==1\n-r ../top.txt\n-r https://example.invalid/r\n")
    gatepip.refuse_unsafe_requirements([top])
