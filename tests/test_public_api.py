"""pgpverify/__init__.py: the public API is listed, documented, typed and cheap to import."""

import inspect
import subprocess
import sys

import pytest

import pgpverify

NAMES = [name for name in pgpverify.__all__ if name != "__version__"]


@pytest.mark.parametrize("name", NAMES)
def test_every_public_name_resolves_and_is_documented(name):
    value = getattr(pgpverify, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), name
        assert value.__module__.startswith("pgpverify."), name


def test_dir_lists_every_public_name():
    assert set(pgpverify.__all__) <= set(dir(pgpverify))


def test_public_api_rejects_an_unknown_name():
    with pytest.raises(AttributeError, match="has no attribute 'Verfier'"):
        pgpverify.Verfier  # noqa: B018 - the lookup is the test


def test_import_pgpverify_loads_no_crypto_http_or_pgpy():
    code = (
        "import sys, pgpverify; "
        "print(sorted(m for m in ('cryptography', 'pgpy', 'requests', 'pgpverify.verify') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_py_typed_ships_with_the_package():
    from pathlib import Path

    assert (Path(pgpverify.__file__).parent / "py.typed").exists()
