"""The committed vectors are exactly what vectors/generate.py writes, and the manifest is sane."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))["vectors"]
REASONS = {
    "good",
    "bad-signature",
    "unknown-key",
    "key-expired",
    "key-revoked",
    "key-not-yet-valid",
    "not-signing-key",
    "signature-expired",
    "weak-hash",
    "weak-key",
    "malformed",
    "not-owner",
}
FIELDS = {
    "name",
    "file",
    "signature",
    "keyrings",
    "at",
    "project",
    "owners",
    "expected",
    "signer_fingerprint",
    "primary_fingerprint",
    "proves",
    "oracles",
    "made_by",
}


def _load_generator():
    sys.path.insert(0, str(VECTORS))
    try:
        spec = importlib.util.spec_from_file_location("vectors_generate", VECTORS / "generate.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(VECTORS))
    return module


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("vectors")
    paths = _load_generator().generate(out)
    return out, paths


def test_generate_reproduces_committed_vectors_byte_for_byte(regenerated):
    out, paths = regenerated
    assert paths, "generate() wrote nothing"
    differ = []
    for path in paths:
        rel = path.relative_to(out)
        committed = VECTORS / rel
        if not committed.exists() or committed.read_bytes() != path.read_bytes():
            differ.append(str(rel))
    assert not differ, f"regenerate with `python vectors/generate.py`: {differ}"


def test_generate_writes_the_manifest_and_the_demo(regenerated):
    out, paths = regenerated
    rels = {str(p.relative_to(out)) for p in paths}
    assert "manifest.json" in rels
    assert "demo/demo_pkg-1.0.0-py3-none-any.whl" in rels
    assert "demo/keyring.asc" in rels


def test_manifest_paths_exist():
    missing = []
    for v in MANIFEST:
        paths = [v["file"], v["signature"], *v["keyrings"]]
        if v["owners"]:
            paths.append(v["owners"])
        missing += [f"{v['name']}: {p}" for p in paths if not (VECTORS / p).is_file()]
    assert not missing


def test_manifest_names_are_unique():
    names = [v["name"] for v in MANIFEST]
    assert len(names) == len(set(names))


def test_manifest_covers_every_reason():
    assert {v["expected"] for v in MANIFEST} == REASONS


@pytest.mark.parametrize("vector", MANIFEST, ids=[v["name"] for v in MANIFEST])
def test_manifest_entry_is_well_formed(vector):
    assert set(vector) >= FIELDS
    assert vector["expected"] in REASONS
    assert vector["keyrings"]
    assert vector["proves"].strip()
    assert (vector["project"] is None) == (vector["owners"] is None)
    assert vector["made_by"] in {"generate.py", "gpg", "sq"}
    assert vector["at"].endswith("Z")
    for key in ("signer_fingerprint", "primary_fingerprint"):
        fpr = vector[key]
        assert fpr is None or (len(fpr) == 40 and fpr == fpr.upper() and int(fpr, 16) >= 0)
    if vector["expected"] in {"malformed", "unknown-key"}:
        assert vector["signer_fingerprint"] is None
    else:
        assert vector["signer_fingerprint"] is not None
    ours = "good" if vector["expected"] == "good" else "bad"
    assert set(vector["oracles"]) == {"gpgv", "sqv"}
    assert set(vector["oracles"].values()) <= {"good", "bad"}
    if any(verdict != ours for verdict in vector["oracles"].values()):
        assert vector.get("oracle_note"), "an oracle disagreement must be explained"


def test_private_keys_say_they_are_test_only():
    readme = (VECTORS / "private" / "README.md").read_text(encoding="utf-8")
    assert "test-only" in readme.lower()
