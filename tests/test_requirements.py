import pytest

from pgpverify.errors import InputError
from pgpverify.trust.requirements import read_requirements


def test_requirements_names_options_and_nesting(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.txt").write_text("Other_Project==2.0\n")
    req = tmp_path / "requirements.txt"
    req.write_text(
        "# comment\n"
        "Demo.Pkg>=1.0  # trailing comment\n"
        "requests[socks]==2.31 ; python_version >= '3.8'\n"
        "numpy==1.26 --hash=sha256:abc \\\n    --hash=sha256:def\n"
        "-r sub/more.txt\n"
        "--index-url https://example/simple/\n"
        "-e git+https://github.com/x/y#egg=y\n"
        "pkg @ https://example/pkg-1.0.tar.gz\n"
        "./local/path\n"
    )
    names, problems = read_requirements(req)
    assert names == ["demo-pkg", "requests", "numpy", "other-project"]
    assert len(problems) == 3
    assert any("editable" in p for p in problems)
    assert any("direct URL" in p for p in problems)
    assert all(str(req) in p for p in problems)


def test_requirements_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_requirements(tmp_path / "nope.txt")


def test_requirements_self_inclusion_is_read_once(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("x\n-r r.txt\n")
    assert read_requirements(req) == (["x"], [])


def test_requirements_nesting_depth_is_bounded(tmp_path):
    for i in range(12):
        (tmp_path / f"d{i}.txt").write_text(f"-r d{i + 1}.txt\n")
    (tmp_path / "d12.txt").write_text("deep\n")
    with pytest.raises(InputError, match="nest too deeply"):
        read_requirements(tmp_path / "d0.txt")


def test_requirements_included_many_times_are_read_once(tmp_path):
    # 20 includes per level, 8 levels: 20**8 reads without the "read once" rule
    for i in range(8):
        (tmp_path / f"f{i}.txt").write_text(f"pkg{i}\n" + f"-r f{i + 1}.txt\n" * 20)
    (tmp_path / "f8.txt").write_text("last\n")
    names, problems = read_requirements(tmp_path / "f0.txt")
    assert names == [f"pkg{i}" for i in range(8)] + ["last"]
    assert problems == []


def test_requirements_cycle_is_read_once(tmp_path):
    (tmp_path / "a.txt").write_text("a\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("b\n-r a.txt\n")
    assert read_requirements(tmp_path / "a.txt") == (["a", "b"], [])


def test_requirements_nul_byte_in_an_include(tmp_path):
    req = tmp_path / "r.txt"
    req.write_bytes(b"-r a\x00b\n")
    with pytest.raises(InputError, match="cannot read requirements file"):
        read_requirements(req)


def test_requirements_rejects_what_its_limits_exceed(tmp_path):
    from pgpverify.limits import Limits

    (tmp_path / "a.txt").write_text("a\n-r b.txt\n")
    (tmp_path / "b.txt").write_text("b\n-r c.txt\n")
    (tmp_path / "c.txt").write_text("c\n")
    first = tmp_path / "a.txt"
    assert read_requirements(first, limits=Limits(requirements_depth=2, requirements_files=3)) == (
        ["a", "b", "c"],
        [],
    )
    with pytest.raises(InputError, match="nest too deeply"):
        read_requirements(first, limits=Limits(requirements_depth=1))
    with pytest.raises(InputError, match="more than 2 requirements files"):
        read_requirements(first, limits=Limits(requirements_files=2))
    with pytest.raises(InputError, match="larger than 9 bytes"):
        read_requirements(first, limits=Limits(requirements_bytes=9))


def test_requirements_rejects_a_loop_of_symbolic_links(tmp_path):
    # lock -r on a link loop was an internal error (resolve() raised RuntimeError before
    # Python 3.13); one reader for lock and for check/install now says what it is
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop.name)
    top = tmp_path / "top.txt"
    top.write_text("demo-pkg\n-r loop.txt\n", encoding="utf-8")
    for path in (loop, top):
        with pytest.raises(InputError, match="a loop of symbolic links"):
            read_requirements(path)
