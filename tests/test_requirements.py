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
    assert names == ["demo-pkg", "requests", "numpy", "other-project" ]
    assert len(problems) == 3
    assert any("editable" in p for p in problems)
    assert any("direct URL" in p for p in problems)
    assert all(str(req) in p for p in problems)


def test_requirements_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_requirements(tmp_path / "nope.txt")


def test_requirements_self_inclusion_is_bounded(tmp_path):
    req = tmp_path / "r.txt"
    req.write_text("-r r.txt\n")
    with pytest.raises(InputError, match="nest too deeply"):
        read_requirements(req)
