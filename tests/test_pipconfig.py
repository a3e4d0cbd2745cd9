import os

import pytest

from pgpverify.index.pipconfig import config_files, configured_index_url


def env(tmp_path, **extra):
    base = {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "XDG_CONFIG_DIRS": str(tmp_path / "etcxdg"),
    }
    base.update(extra)
    return base


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_environment_variable_wins(tmp_path):
    write(tmp_path / "xdg" / "pip" / "pip.conf", "[global]\nindex-url = https://file/simple/\n")
    e = env(tmp_path, PIP_INDEX_URL="https://env/simple/")
    assert configured_index_url(e, prefix=str(tmp_path / "venv")) == "https://env/simple/"


def test_user_file_then_site_file_then_pip_config_file(tmp_path):
    prefix = str(tmp_path / "venv")
    e = env(tmp_path)
    write(tmp_path / "xdg" / "pip" / "pip.conf", "[global]\nindex-url = https://user/simple/\n")
    assert configured_index_url(e, prefix=prefix) == "https://user/simple/"
    write(tmp_path / "venv" / "pip.conf", "[global]\nindex-url = https://site/simple/\n")
    assert configured_index_url(e, prefix=prefix) == "https://site/simple/"
    extra = write(tmp_path / "extra.conf", "[global]\nindex-url = https://extra/simple/\n")
    assert (
        configured_index_url({**e, "PIP_CONFIG_FILE": str(extra)}, prefix=prefix)
        == "https://extra/simple/"
    )


def test_install_section_overrides_global(tmp_path):
    write(
        tmp_path / "xdg" / "pip" / "pip.conf",
        "[global]\nindex-url = https://g/simple/\n[install]\nindex-url = https://i/simple/\n",
    )
    assert configured_index_url(env(tmp_path), prefix=str(tmp_path)) == "https://i/simple/"


def test_devnull_config_file_disables_files(tmp_path):
    write(tmp_path / "xdg" / "pip" / "pip.conf", "[global]\nindex-url = https://user/simple/\n")
    e = env(tmp_path, PIP_CONFIG_FILE=os.devnull)
    assert configured_index_url(e, prefix=str(tmp_path)) is None


@pytest.mark.parametrize(
    "text",
    [
        "index-url = https://no-section/simple/\n[[[",
        "[global]\nindex-url = https://huge/simple/\n" + "#" * (2 << 20),
        "[global]\nindex-url =\n",
    ],
)
def test_broken_huge_or_empty_config_files_are_ignored(tmp_path, text):
    user = write(
        tmp_path / "xdg" / "pip" / "pip.conf", "[global]\nindex-url = https://user/simple/\n"
    )
    broken = write(tmp_path / "broken.conf", text)
    e = env(tmp_path, PIP_CONFIG_FILE=str(broken))
    assert user.exists()
    assert configured_index_url(e, prefix=str(tmp_path / "venv")) == "https://user/simple/"


def test_config_files_order_ends_with_site_and_pip_config_file(tmp_path):
    files = config_files(env(tmp_path, PIP_CONFIG_FILE="/x/pip.conf"), prefix="/venv")
    assert files[-1] == __import__("pathlib").Path("/x/pip.conf")
    assert files[-2].name in ("pip.conf", "pip.ini")


def test_no_home_and_no_passwd_entry(tmp_path, monkeypatch):
    import pathlib

    def no_home():
        msg = "Could not determine home directory."
        raise RuntimeError(msg)

    monkeypatch.setattr(pathlib.Path, "home", staticmethod(no_home))
    extra = write(tmp_path / "extra.conf", "[global]\nindex-url = https://extra/simple/\n")
    files = config_files({"PIP_CONFIG_FILE": str(extra)}, prefix=str(tmp_path))
    assert files[-1] == extra
    assert (
        configured_index_url({"PIP_CONFIG_FILE": str(extra)}, prefix=str(tmp_path))
        == "https://extra/simple/"
    )


def test_config_file_over_its_limit_is_ignored(tmp_path):
    from pgpverify.limits import Limits

    text = "[global]\nindex-url = https://user/simple/\n"
    write(tmp_path / "xdg" / "pip" / "pip.conf", text)
    size = len(text.encode())
    prefix = str(tmp_path / "venv")
    assert (
        configured_index_url(env(tmp_path), prefix=prefix, limits=Limits(pip_config_bytes=size))
        == "https://user/simple/"
    )
    assert (
        configured_index_url(env(tmp_path), prefix=prefix, limits=Limits(pip_config_bytes=size - 1))
        is None
    )


def test_default_config_cap_is_the_limits_one():
    from pgpverify.index.pipconfig import DEFAULT_CONFIG_BYTES
    from pgpverify.limits import DEFAULT_LIMITS

    assert DEFAULT_LIMITS.pip_config_bytes == DEFAULT_CONFIG_BYTES
