"""The package: metadata in one place, compatible ranges, and a canary for PGPy's private API.

PGPy decodes key material for ``pgpverify/openpgp/keymaterial.py`` through classes that are
not its public API (``pgpy.packet.fields.RSAPub`` ...), and ``pyproject.toml`` admits a
range of PGPy releases, not one pin. The canary tests below exercise exactly what that
module uses, each against a key made by ``cryptography``, and fail with a message naming
the PGPy release and the class or attribute that changed. They run on every supported
Python (``make matrix``), so a new PGPy release in the range is caught before a user is.

The metadata tests read ``pyproject.toml``; in an unpacked sdist they read the sdist's.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from packaging.requirements import Requirement
from packaging.version import Version

import pgpverify

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
PGPY_USER = "pgpverify/openpgp/keymaterial.py (_pgpy_decode)"


def declared(name: str) -> Requirement:
    for line in PROJECT["dependencies"]:
        req = Requirement(line)
        if req.name.lower() == name:
            return req
    pytest.fail(f"{name} is not a dependency in pyproject.toml")


# --- PGPy canary --------------------------------------------------------------------------


def pgpy_version() -> str:
    return importlib.metadata.version("pgpy")


def changed(what: str, detail: str) -> str:
    return (
        f"PGPy {pgpy_version()} changed {what}: {detail}. {PGPY_USER} relies on it: adapt "
        "the decoder (and tests/test_keymaterial.py), or exclude this release in "
        "pyproject.toml's pgpy range."
    )


def mpi(value: int) -> bytes:
    return value.bit_length().to_bytes(2, "big") + value.to_bytes(
        (value.bit_length() + 7) // 8, "big"
    )


def pgpy_fields() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PGPy warns on import; keymaterial.py does the same
        try:
            from pgpy.packet import fields
        except ImportError as err:  # pragma: no cover - only on a broken PGPy release
            pytest.fail(changed("pgpy.packet.fields", f"it no longer imports ({err})"))
    return fields


def decode(field_name: str, material: bytes) -> Any:
    """Run one decoder as keymaterial._pgpy_decode does: construct, parse a bytearray."""
    fields = pgpy_fields()
    cls = getattr(fields, field_name, None)
    if cls is None:
        pytest.fail(changed(f"pgpy.packet.fields.{field_name}", "the class is gone"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            decoder = cls()
        except Exception as err:  # noqa: BLE001 - any failure is the change we report
            pytest.fail(changed(f"{field_name}()", f"it no longer constructs: {err!r}"))
        if not callable(getattr(decoder, "parse", None)):
            pytest.fail(changed(f"{field_name}.parse", "the method is gone"))
        try:
            decoder.parse(bytearray(material))
        except Exception as err:  # noqa: BLE001
            pytest.fail(changed(f"{field_name}.parse", f"a valid key fails: {err!r}"))
    return decoder


def pubkey(field_name: str, decoder: Any) -> Any:
    method = getattr(decoder, "__pubkey__", None)
    if not callable(method):
        pytest.fail(changed(f"{field_name}.__pubkey__", "the method is gone"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return method()
        except Exception as err:  # noqa: BLE001
            pytest.fail(changed(f"{field_name}.__pubkey__", f"a valid key fails: {err!r}"))


def test_pgpy_release_is_inside_the_declared_range():
    req = declared("pgpy")
    assert req.specifier.contains(Version(pgpy_version()), prereleases=True), (
        f"PGPy {pgpy_version()} is installed but pyproject.toml admits {req.specifier}"
    )


def test_pgpy_rsapub_decodes_to_a_cryptography_rsa_key():
    numbers = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
    key = pubkey("RSAPub", decode("RSAPub", mpi(numbers.n) + mpi(numbers.e)))
    assert isinstance(key, rsa.RSAPublicKey), changed(
        "RSAPub.__pubkey__", f"it returns {type(key).__name__}, not an RSAPublicKey"
    )
    assert key.public_numbers() == numbers, changed("RSAPub", "n or e decode differently")


def test_pgpy_dsapub_decodes_to_a_cryptography_dsa_key():
    numbers = dsa.generate_private_key(2048).public_key().public_numbers()
    params = numbers.parameter_numbers
    material = mpi(params.p) + mpi(params.q) + mpi(params.g) + mpi(numbers.y)
    key = pubkey("DSAPub", decode("DSAPub", material))
    assert isinstance(key, dsa.DSAPublicKey), changed(
        "DSAPub.__pubkey__", f"it returns {type(key).__name__}, not a DSAPublicKey"
    )
    assert key.public_numbers() == numbers, changed("DSAPub", "p, q, g or y decode differently")


@pytest.mark.parametrize(
    ("oid", "curve"),
    [
        ("2A8648CE3D030107", ec.SECP256R1),
        ("2B81040022", ec.SECP384R1),
        ("2B2403030208010107", ec.BrainpoolP256R1),
        ("2B8104000A", ec.SECP256K1),
    ],
    ids=["P-256", "P-384", "brainpoolP256r1", "secp256k1"],
)
def test_pgpy_ecdsapub_decodes_the_point_coordinates(oid, curve):
    numbers = ec.generate_private_key(curve()).public_key().public_numbers()
    size = (curve.key_size + 7) // 8
    point = b"\x04" + numbers.x.to_bytes(size, "big") + numbers.y.to_bytes(size, "big")
    oid_octets = bytes.fromhex(oid)
    material = bytes([len(oid_octets)]) + oid_octets + mpi(int.from_bytes(point, "big"))
    decoder = decode("ECDSAPub", material)
    # keymaterial.py reads decoder.p.x and decoder.p.y and builds the key on cryptography's
    # curve itself (PGPy's brainpool classes are abstract under current cryptography).
    p = getattr(decoder, "p", None)
    if p is None or not hasattr(p, "x") or not hasattr(p, "y"):
        pytest.fail(changed("ECDSAPub.p", "the decoded point has no .x / .y"))
    assert (int(p.x), int(p.y)) == (numbers.x, numbers.y), changed(
        "ECDSAPub.p", "the point's coordinates decode differently"
    )


def test_pgpy_eddsapub_decodes_to_a_cryptography_ed25519_key():
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    oid = bytes.fromhex("2B06010401DA470F01")
    material = bytes([len(oid)]) + oid + mpi(int.from_bytes(b"\x40" + raw, "big"))
    key = pubkey("EdDSAPub", decode("EdDSAPub", material))
    assert isinstance(key, ed25519.Ed25519PublicKey), changed(
        "EdDSAPub.__pubkey__", f"it returns {type(key).__name__}, not an Ed25519PublicKey"
    )
    assert key.public_bytes_raw() == raw, changed("EdDSAPub", "the point decodes differently")


def test_pgpy_canary_names_every_decoder_keymaterial_uses():
    source = (ROOT / "pgpverify/openpgp/keymaterial.py").read_text(encoding="utf-8")
    used = set(re.findall(r'field_name = "(\w+)"', source))
    assert used <= {"RSAPub", "DSAPub", "ECDSAPub", "EdDSAPub"}, (
        f"keymaterial.py now uses PGPy decoders {sorted(used)}: add a canary test for each"
    )


# --- metadata -------------------------------------------------------------------------------


def test_metadata_lives_in_pyproject_only():
    assert not (ROOT / "setup.py").exists()
    # setuptools writes a setup.cfg holding only [egg_info] into every sdist it builds
    setup_cfg = ROOT / "setup.cfg"
    if setup_cfg.exists():
        sections = re.findall(r"^\[(.+)\]", setup_cfg.read_text(encoding="utf-8"), re.MULTILINE)
        assert sections == ["egg_info"], f"setup.cfg holds {sections}: use pyproject.toml"
    assert PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "pgpverify.__version__"
    }


def test_version_is_written_once():
    Version(pgpverify.__version__)  # PEP 440
    init = (ROOT / "pgpverify/__init__.py").read_text(encoding="utf-8")
    assert len(re.findall(r"^__version__ = ", init, re.MULTILINE)) == 1
    assert importlib.metadata.version("pgpverify") == pgpverify.__version__


def test_licence_is_an_spdx_expression_with_its_file():
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    # PEP 639: no licence classifier beside an expression
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_classifiers_match_requires_python():
    classifiers = set(PROJECT["classifiers"])
    listed = {c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r".*:: 3\.\d+", c)}
    assert listed == set(SUPPORTED)
    assert PROJECT["requires-python"] == f">={SUPPORTED[0]}"
    assert "Operating System :: OS Independent" in classifiers
    assert "Topic :: Security :: Cryptography" in classifiers
    assert set(PROJECT["scripts"]) == {"pgpverify"}
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(PROJECT["urls"])


def test_console_script_resolves_to_a_callable():
    module, _, attr = PROJECT["scripts"]["pgpverify"].partition(":")
    assert callable(getattr(importlib.import_module(module), attr))


def test_packaging_rejects_exact_pins_and_open_ranges():
    for line in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"]:
        req = Requirement(line)
        ops = {spec.operator for spec in req.specifier}
        assert "==" not in ops, f"{line}: an exact pin; use a compatible range"
        assert ops & {">=", "~="}, f"{line}: no lower bound"
        assert ops & {"<", "~="}, f"{line}: no upper bound"


def test_pypi_description_says_what_the_tool_does_first():
    text = (ROOT / PROJECT["readme"]).read_text(encoding="utf-8")
    first = text.split("\n\n")[1]
    assert "OpenPGP signature" in first
    assert "make " not in text.split("```")[0]
    # PyPI cannot resolve links into the repository
    assert not re.search(r"\]\((?!https://)", text)


def _third_party_imports(path: Path) -> set[str]:
    """Top-level modules ``path`` imports, or runs as ``sys.executable, "-m", NAME``."""
    source = path.read_text(encoding="utf-8")
    names = set(re.findall(r'"-m",\s*"(\w+)"', source))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_test_extra_covers_every_test_import():
    local = {p.stem for p in (ROOT / "tests").rglob("*.py")} | {"pgpverify", "tests", "vectors"}
    local |= {p.stem for p in (ROOT / "vectors").glob("*.py")}
    imported: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        imported |= _third_party_imports(path)
    outside = imported - set(sys.stdlib_module_names) - local - {"__future__", "tomli", "tomllib"}
    dists = importlib.metadata.packages_distributions()
    declared_names = {
        Requirement(line).name.lower().replace("_", "-")
        for line in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"]
    }
    missing = {
        name: dists.get(name, [name])
        for name in outside
        if not {d.lower().replace("_", "-") for d in dists.get(name, [name])} & declared_names
    }
    assert not missing, f"imported by tests but not in dependencies or the test extra: {missing}"


def test_pgpy_canary_rejects_a_missing_decoder_by_name(monkeypatch):
    monkeypatch.delattr(pgpy_fields(), "RSAPub")
    with pytest.raises(pytest.fail.Exception) as failed:
        test_pgpy_rsapub_decodes_to_a_cryptography_rsa_key()
    message = str(failed.value)
    assert f"PGPy {pgpy_version()} changed pgpy.packet.fields.RSAPub: the class is gone" in message
    assert PGPY_USER in message


def test_pgpy_canary_rejects_a_changed_point_attribute(monkeypatch):
    fields = pgpy_fields()
    original = fields.ECDSAPub.parse

    def parse_to_a_bare_point(self, packet):
        original(self, packet)
        self.p = object()  # a release that renamed the coordinates

    monkeypatch.setattr(fields.ECDSAPub, "parse", parse_to_a_bare_point)
    with pytest.raises(pytest.fail.Exception, match=r"changed ECDSAPub\.p: the decoded point"):
        test_pgpy_ecdsapub_decodes_the_point_coordinates("2A8648CE3D030107", ec.SECP256R1)


def test_ci_matrix_covers_every_supported_python():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pythons = re.search(r"^PYTHONS \?= (.+)$", makefile, re.MULTILINE)
    assert pythons is not None
    assert tuple(pythons.group(1).split()) == SUPPORTED
    workflow = ROOT / ".github/workflows/ci.yml"
    if not workflow.exists():  # the sdist does not carry .github/
        return
    text = workflow.read_text(encoding="utf-8")
    matrix = re.search(r"^\s+python: \[(.+)\]$", text, re.MULTILINE)
    assert matrix is not None
    assert tuple(v.strip().strip('"') for v in matrix.group(1).split(",")) == SUPPORTED
