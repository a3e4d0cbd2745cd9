import os
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pgpverify.errors import LockFileError
from pgpverify.limits import DEFAULT_LIMITS, Limits
from pgpverify.openpgp.armor import decode_blocks, encode
from pgpverify.openpgp.keyring import Keyring
from pgpverify.trust import lockfile
from pgpverify.trust.lockfile import (
    LockedProject,
    LockFile,
    build_lock,
    dumps,
    loads,
    write_lock,
)
from pgpverify.trust.owners import Maintainer, OwnershipRecord, parse_retired
from pgpverify.verify import Reason, Verifier

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEMO = Path(__file__).resolve().parent.parent / "vectors" / "demo"
WHEEL = DEMO / "demo_pkg-1.0.0-py3-none-any.whl"
AT = datetime(2025, 6, 1, tzinfo=timezone.utc)

ALICE = "DBB45D692413FC66E3CB87089B617AE7AD1F8C84"
BOB = "36FF105B8A4F39B79348ACB434B57E55CBEE8D98"
CAROL = "88199D93B4210BBED4A2245EDD771D2D3E8DF380"  # in the keyring, owns nothing
DAVE = "11B543008E037F93A69E40E5F64134C69A45844B"


def _certificates():
    certs = {}
    for block in decode_blocks((DEMO / "keyring.asc").read_bytes()):
        ring = Keyring()
        ring.add_bytes(block.data, source="demo")
        (fpr,) = ring.fingerprints
        certs[fpr.hex().upper()] = encode(block.data, "PUBLIC KEY BLOCK")
    return certs


CERTS = _certificates()


def _record():
    return OwnershipRecord.from_file(DEMO / "owners" / "demo-pkg.json")


def _lock(**kw):
    return build_lock([_record()], CERTS, index_url="https://pypi.example/simple/", **kw)


def _text(**kw):
    return dumps(_lock(**kw))


def test_certificates_vector_has_the_expected_keys():
    assert set(CERTS) == {ALICE, BOB, CAROL, DAVE}


def test_lockfile_round_trips():
    lock = _lock()
    text = dumps(lock)
    again = loads(text, source="pgpverify.lock")
    assert again == lock
    assert dumps(again) == text
    assert lock.version == 1
    assert lock.index_url == "https://pypi.example/simple/"
    assert set(lock.projects) == {"demo-pkg"}
    # only the certificates a maintainer lists are pinned (carol's is not)
    assert set(lock.certificates) == {ALICE, BOB, DAVE}


def test_lockfile_is_valid_toml_and_diff_friendly():
    text = _text()
    doc = tomllib.loads(text)
    assert doc["version"] == 1
    project = doc["projects"]["demo-pkg"]
    assert [m["user"] for m in project["maintainers"]] == ["alice", "bob", "dave"]
    assert project["maintainers"][0] == {"user": "alice", "role": "Owner", "keys": [ALICE]}
    assert list(doc["certificates"]) == sorted(doc["certificates"])
    assert doc["certificates"][ALICE].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
    assert text.startswith("# ")
    assert "\r" not in text
    assert text.endswith("-----END PGP PUBLIC KEY BLOCK-----\n'''\n")
    # one fingerprint per line
    assert f'    "{ALICE}",\n' in text
    assert f"\"{ALICE}\" = '''\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n" in text
    for line in text.splitlines():
        assert sum(fpr in line for fpr in (ALICE, BOB, DAVE)) <= 1


def test_lockfile_sorts_fingerprints_and_projects():
    rec = OwnershipRecord(
        project="Zeta.Pkg",
        maintainers=(Maintainer(user="alice", role="Owner", keys=(DAVE, ALICE, BOB)),),
    )
    lock = build_lock([rec, _record()], CERTS, index_url=None)
    text = dumps(lock)
    assert list(lock.projects) == ["zeta-pkg", "demo-pkg"]
    assert text.index('[projects."demo-pkg"]') < text.index('[projects."zeta-pkg"]')
    assert lock.projects["zeta-pkg"].maintainers[0].keys == tuple(sorted((ALICE, BOB, DAVE)))
    assert "index_url" not in text
    assert loads(text) == lock


def test_lockfile_retired_keys_round_trip():
    when = parse_retired("2024-05-01")
    rec = OwnershipRecord(
        project="demo-pkg",
        maintainers=(
            Maintainer(user="alice", role="Owner", keys=(ALICE, DAVE), retired=((DAVE, when),)),
        ),
    )
    lock = build_lock([rec], CERTS, index_url=None)
    text = dumps(lock)
    assert f'{{ fingerprint = "{DAVE}", retired = "2024-05-01T00:00:00Z" }},' in text
    again = loads(text)
    assert again == lock
    assert again.ownership("demo-pkg").maintainers[0].retired_at(DAVE) == when
    assert dumps(again) == text


def test_lockfile_reads_native_toml_dates_for_retired():
    native = f'    {{ fingerprint = "{DAVE}", retired = 2024-05-01 }},'
    again = loads(_text().replace(f'    "{DAVE}",', native))
    dave = again.ownership("demo-pkg").maintainers[2]
    assert dave.retired_at(DAVE) == parse_retired("2024-05-01")
    assert 'retired = "2024-05-01T00:00:00Z"' in dumps(again)


def test_lockfile_unsigned_and_note_round_trip_and_carry_over():
    text = _text().replace(
        '[projects."demo-pkg"]\n',
        '[projects."demo-pkg"]\nunsigned = "allowed"\nnote = "ok \\"x\\"\\n"\n',
    )
    previous = loads(text)
    locked = previous.project("Demo_Pkg")
    assert locked.unsigned == "allowed"
    assert locked.note == 'ok "x"\n'
    assert dumps(previous) == text
    relocked = _lock(previous=previous)
    assert relocked == previous
    assert dumps(relocked) == text


def test_lockfile_carries_over_an_exception_for_a_project_without_a_record():
    previous = LockFile(projects={"legacy": LockedProject(name="legacy", unsigned="allowed")})
    text = dumps(previous)
    assert 'unsigned = "allowed"\nmaintainers = []\n' in text
    assert loads(text) == previous
    lock = _lock(previous=loads(text), unrecorded=["Legacy", "other"])
    assert lock.project("legacy") == LockedProject(name="legacy", unsigned="allowed")
    assert lock.project("other") is None
    assert _lock(previous=previous).project("legacy") is None


def test_lockfile_strings_are_escaped():
    note = 'a "quoted" \\ back\tslash\x01\x7f and ünïcode\n'
    lock = LockFile(
        index_url='https://x/"simple"/',
        projects={
            "p": LockedProject(
                name="p",
                note=note,
                maintainers=(Maintainer(user='eve "the" \\user', role="Owner", keys=()),),
            ),
        },
    )
    text = dumps(lock)
    assert "\x01" not in text
    assert "\x7f" not in text
    assert loads(text) == lock
    assert tomllib.loads(text)["projects"]["p"]["note"] == note


def test_lockfile_drops_fingerprints_without_a_key_file():
    certs = {k: v for k, v in CERTS.items() if k != BOB}
    lock = build_lock([_record()], certs, index_url=None)
    assert lock.projects["demo-pkg"].maintainers[1].keys == ()
    assert BOB not in lock.certificates
    assert loads(dumps(lock)) == lock


def test_lockfile_build_accepts_binary_and_lower_case_key_files():
    binary = {k.lower(): decode_blocks(v)[0].data for k, v in CERTS.items()}
    assert build_lock([_record()], binary, index_url=None) == build_lock(
        [_record()], CERTS, index_url=None
    )


def test_lockfile_build_rejects_a_key_file_for_another_fingerprint():
    certs = dict(CERTS)
    certs[BOB] = CERTS[CAROL]
    with pytest.raises(LockFileError, match=f"key file for {BOB} has primary fingerprint {CAROL}"):
        build_lock([_record()], certs, index_url=None)


def test_lockfile_build_rejects_two_records_for_one_project():
    with pytest.raises(LockFileError, match="two ownership records"):
        build_lock(
            [_record(), OwnershipRecord(project="Demo.Pkg", maintainers=())], CERTS, index_url=None
        )


def test_lockfile_build_rejects_an_invalid_project_name():
    with pytest.raises(LockFileError, match="not a valid project name"):
        build_lock([OwnershipRecord(project="not a name", maintainers=())], CERTS, index_url=None)


def test_lockfile_keyring_and_ownership_verify_the_demo_wheel():
    lock = loads(_text())
    ring = lock.keyring_for("Demo_Pkg")
    assert sorted(f.hex().upper() for f in ring.fingerprints) == sorted((ALICE, BOB, DAVE))
    owners = lock.ownership("demo_pkg")
    assert owners == _record().__class__(project="demo-pkg", maintainers=_record().maintainers)
    result = Verifier(ring, owners=owners, project="demo-pkg").verify(WHEEL, at=AT)
    assert result.reason is Reason.GOOD, result.message
    assert result.ok


def test_lockfile_unknown_project_has_no_ownership_and_an_empty_keyring():
    lock = loads(_text())
    assert lock.project("other") is None
    assert lock.ownership("other") is None
    assert len(lock.keyring_for("other")) == 0


def test_lockfile_ignores_unknown_fields():
    text = _text().replace("version = 1\n", "version = 1\nfuture = [1, 2]\n")
    text = text.replace('role = "Owner"\n', 'role = "Owner"\nemail = "a@example.org"\n')
    assert loads(text) == _lock()


# --- tampering: every inconsistency rejects the whole file


def test_lockfile_rejects_a_changed_maintainer_fingerprint():
    forged = "0" * 40
    text = _text().replace(f'    "{BOB}",', f'    "{forged}",')
    with pytest.raises(
        LockFileError, match=f"no certificate for {forged} listed by bob in demo-pkg"
    ) as info:
        loads(text, source="pgpverify.lock")
    assert str(info.value).startswith("pgpverify.lock: ")
    assert "\n" not in str(info.value)


def test_lockfile_rejects_a_certificate_under_another_fingerprint():
    text = _text().replace(f"\"{BOB}\" = '''", f"\"{CAROL}\" = '''")
    with pytest.raises(
        LockFileError, match=f"certificate listed as {CAROL} has primary fingerprint {BOB}"
    ):
        loads(text)


def test_lockfile_rejects_a_swapped_certificate():
    text = _text().replace(CERTS[BOB].decode(), CERTS[CAROL].decode())
    with pytest.raises(
        LockFileError, match=f"certificate listed as {BOB} has primary fingerprint {CAROL}"
    ):
        loads(text)


def test_lockfile_rejects_a_swap_of_two_listed_certificates():
    text = _text()
    alice, bob = CERTS[ALICE].decode(), CERTS[BOB].decode()
    text = text.replace(alice, "@@").replace(bob, alice).replace("@@", bob)
    with pytest.raises(LockFileError, match="has primary fingerprint"):
        loads(text)


def test_lockfile_rejects_a_corrupted_certificate_crc():
    armor = CERTS[BOB].decode()
    crc_line = next(line for line in armor.splitlines() if line.startswith("="))
    bad = "=" + ("AAAA" if crc_line != "=AAAA" else "BBBB")
    with pytest.raises(LockFileError, match=f"{BOB}: armor checksum"):
        loads(_text().replace(crc_line, bad))


def test_lockfile_rejects_a_corrupted_certificate_base64():
    armor = CERTS[BOB].decode()
    body_line = armor.splitlines()[2]
    with pytest.raises(LockFileError, match=f"{BOB}: invalid base64"):
        loads(_text().replace(body_line, "!" + body_line[1:]))


def test_lockfile_rejects_a_flipped_certificate_byte():
    data = bytearray(decode_blocks(CERTS[BOB])[0].data)
    data[20] ^= 0x01  # inside the public key material: the fingerprint changes
    text = _text().replace(CERTS[BOB].decode(), encode(bytes(data), "PUBLIC KEY BLOCK").decode())
    with pytest.raises(LockFileError, match=f"certificate listed as {BOB}"):
        loads(text)


def test_lockfile_rejects_two_certificates_in_one_entry():
    text = _text().replace(CERTS[BOB].decode(), (CERTS[BOB] + CERTS[CAROL]).decode())
    with pytest.raises(LockFileError, match="2 armored blocks"):
        loads(text)


def test_lockfile_rejects_a_signature_block_as_certificate():
    armor = CERTS[BOB].decode().replace("PUBLIC KEY BLOCK", "SIGNATURE")
    with pytest.raises(LockFileError, match="a PGP SIGNATURE is not a public key"):
        loads(_text().replace(CERTS[BOB].decode(), armor))


def test_lockfile_rejects_an_unreferenced_certificate():
    text = _text() + f"\"{CAROL}\" = '''\n{CERTS[CAROL].decode()}'''\n"
    with pytest.raises(LockFileError, match=f"certificate {CAROL} is listed by no maintainer"):
        loads(text)


def test_lockfile_rejects_a_duplicate_certificate_key():
    text = _text() + f"\"{BOB.lower()}\" = '''\n{CERTS[BOB].decode()}'''\n"
    with pytest.raises(LockFileError, match=f"certificate {BOB} is listed twice"):
        loads(text)


# --- syntax, types, values


def test_lockfile_rejects_invalid_toml():
    with pytest.raises(LockFileError, match=r"not valid TOML: .*line 2") as info:
        loads("version = 1\nindex_url = \n", source="x.lock")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("version = 1\n", "", "lacks 'version'"),
        ("version = 1\n", "version = 2\n", "unsupported lock file version 2"),
        ("version = 1\n", 'version = "1"\n', "'version' must be an integer"),
        ("version = 1\n", "version = true\n", "'version' must be an integer"),
        (
            'index_url = "https://pypi.example/simple/"',
            "index_url = 3",
            "'index_url' must be a string",
        ),
        ('role = "Owner"\n', "role = 1\n", "'role' must be a string"),
        ('user = "bob"\n', "", r"maintainers\[1\] lacks 'user'"),
        (f'keys = [\n    "{BOB}",\n]', f'keys = "{BOB}"', "'keys' must be an array"),
        (f'    "{BOB}",', "    7,", r"keys\[0\] must be a fingerprint or an inline table"),
        (f'    "{BOB}",', '    "B0B",', "not a v4 key fingerprint"),
        (
            f'    "{BOB}",',
            f'    {{ fingerprint = "{BOB}", retired = "soon" }},',
            "not an ISO 8601 date",
        ),
        (
            f'    "{BOB}",',
            f'    {{ fingerprint = "{BOB}", retired = 5 }},',
            "'retired' must be a date",
        ),
        (f'    "{BOB}",', "    { retired = 2024-01-01 },", "lacks 'fingerprint'"),
        (
            f'    "{BOB}",',
            f'    {{ fingerprint = "{BOB}", retired = 0001-01-01T00:00:00+01:00 }},',
            "'retired' is out of range",
        ),
        (
            f'    "{BOB}",',
            f'    {{ fingerprint = "{BOB}", retired = "9999-12-31T23:59:59-12:00" }},',
            "'retired' is out of range",
        ),
        (
            '[projects."demo-pkg"]\n',
            '[projects."demo-pkg"]\nunsigned = "yes"\n',
            r'unsigned = "yes" is not understood',
        ),
        (
            '[projects."demo-pkg"]\n',
            '[projects."demo-pkg"]\nunsigned = true\n',
            "'unsigned' must be a string",
        ),
        ('[projects."demo-pkg"]\n', '[projects."demo-pkg"]\nnote = 1\n', "'note' must be a string"),
        (
            'projects."demo-pkg"',
            'projects."Demo_Pkg"',
            'project "Demo_Pkg" is not a normalized name',
        ),
        ('projects."demo-pkg"', 'projects."a b"', "is not a normalized name"),
        (
            f"\"{ALICE}\" = '''",
            f"\"{ALICE}\" = 1\nx = '''",
            f"certificate {ALICE} must be a string",
        ),
        (f"\"{ALICE}\" = '''", "\"ALICE\" = '''", "not a v4 key fingerprint"),
    ],
)
def test_lockfile_rejects_wrong_types_and_values(old, new, message):
    text = _text()
    assert old in text
    with pytest.raises(LockFileError, match=message):
        loads(text.replace(old, new, 1))


def test_lockfile_rejects_a_project_that_is_not_a_table():
    with pytest.raises(LockFileError, match=r'projects\."x" must be a table'):
        loads("version = 1\nprojects = { x = 1 }\n")


def test_lockfile_rejects_projects_that_is_not_a_table():
    with pytest.raises(LockFileError, match="'projects' must be a table"):
        loads("version = 1\nprojects = 1\n")


# --- reading and writing files


def test_lockfile_read_round_trips(tmp_path):
    path = tmp_path / "pgpverify.lock"
    write_lock(path, _lock())
    assert path.read_bytes() == _text().encode()
    assert LockFile.read(path) == _lock()


def test_lockfile_read_rejects_a_file_too_large(tmp_path):
    path = tmp_path / "pgpverify.lock"
    text = _text()
    path.write_text(text, encoding="utf-8", newline="\n")
    size = len(text.encode())
    with pytest.raises(LockFileError, match=f"larger than {size - 1} bytes") as info:
        LockFile.read(path, limits=Limits(lock_bytes=size - 1))
    assert info.value.source == str(path)
    assert LockFile.read(path, limits=Limits(lock_bytes=size)) == _lock()
    assert DEFAULT_LIMITS.lock_bytes == lockfile.MAX_LOCK_BYTES


def test_lockfile_read_rejects_missing_directory_and_non_utf8(tmp_path):
    with pytest.raises(LockFileError, match="not found"):
        LockFile.read(tmp_path / "missing.lock")
    with pytest.raises(LockFileError, match="is a directory"):
        LockFile.read(tmp_path)
    path = tmp_path / "bad.lock"
    path.write_bytes(b"version = 1\n# \xff\n")
    with pytest.raises(LockFileError, match="not UTF-8"):
        LockFile.read(path)


def test_lockfile_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "pgpverify.lock"
    path.write_text("old\n", encoding="utf-8")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(LockFileError, match="cannot write lock file: No space left"):
        write_lock(path, _lock())
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pgpverify.lock"]


def test_lockfile_write_cleans_up_on_interrupt(tmp_path, monkeypatch):
    path = tmp_path / "pgpverify.lock"

    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_lock(path, _lock())
    assert list(tmp_path.iterdir()) == []


def test_lockfile_write_refuses_an_inconsistent_lock(tmp_path):
    path = tmp_path / "pgpverify.lock"
    lock = _lock()
    broken = LockFile(
        index_url=None,
        projects=lock.projects,
        certificates={k: v for k, v in lock.certificates.items() if k != BOB},
    )
    with pytest.raises(LockFileError, match=f"no certificate for {BOB}"):
        write_lock(path, broken)
    assert not path.exists()


def test_lockfile_write_keeps_the_file_mode(tmp_path):
    path = tmp_path / "pgpverify.lock"
    path.write_text("old\n", encoding="utf-8")
    path.chmod(0o640)
    write_lock(path, _lock())
    assert path.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.lock"
    write_lock(fresh, _lock())
    assert fresh.stat().st_mode & 0o777 == 0o644


def test_lockfile_reads_crlf_line_endings():
    text = _text()
    assert loads(text.replace("\n", "\r\n")) == _lock()


def test_lockfile_empty_lock_round_trips():
    text = dumps(LockFile())
    assert text.endswith("\nversion = 1\n")
    assert loads(text) == LockFile()


def _verdict(lock):
    owners = lock.ownership("demo-pkg")
    ring = lock.keyring_for("demo-pkg")
    return Verifier(ring, owners=owners, project="demo-pkg").verify(WHEEL, at=AT).reason


@pytest.mark.parametrize(
    "written",
    [
        '"1970-01-01"',
        '"1970-01-01T00:00:00Z"',
        "1970-01-01",
        "1970-01-01T00:00:00Z",
        "1970-01-01T01:00:00+01:00",
        "1970-01-01T00:00:00",
    ],
)
def test_lockfile_retirement_at_the_epoch_is_a_retirement(written):
    good = loads(_text())
    assert _verdict(good) is Reason.GOOD  # the twin: alice's key listed plainly
    retired = f'    {{ fingerprint = "{ALICE}", retired = {written} }},'
    lock = loads(_text().replace(f'    "{ALICE}",', retired))
    assert lock.ownership("demo-pkg").retired_at(ALICE) == 0
    assert _verdict(lock) is Reason.NOT_OWNER
    # ... and it is written back as a date, not dropped.
    assert f'{{ fingerprint = "{ALICE}", retired = "1970-01-01T00:00:00Z" }},' in dumps(lock)
    assert loads(dumps(lock)) == lock


def test_lockfile_earliest_of_two_retirements_by_one_maintainer_counts():
    late = f'{{ fingerprint = "{ALICE}", retired = "2099-01-01" }}'
    early = f'{{ fingerprint = "{ALICE}", retired = "1970-01-01" }}'
    for first, second in ((late, early), (early, late)):
        lock = loads(_text().replace(f'    "{ALICE}",', f"    {first},\n    {second},"))
        assert lock.ownership("demo-pkg").retired_at(ALICE) == 0
        assert _verdict(lock) is Reason.NOT_OWNER


def test_lockfile_build_keeps_a_retirement_at_the_epoch(tmp_path):
    rec = OwnershipRecord(
        project="demo-pkg",
        maintainers=(
            Maintainer(user="alice", role="Owner", keys=(ALICE,), retired=((ALICE, 0),)),
            Maintainer(
                user="bob",
                role="Maintainer",
                keys=(BOB, DAVE),
                retired=((DAVE, parse_retired("0005-01-01")),),
            ),
        ),
    )
    lock = build_lock([rec], CERTS, index_url=None)
    path = tmp_path / "pgpverify.lock"
    write_lock(path, lock)
    text = path.read_text()
    assert 'retired = "1970-01-01T00:00:00Z"' in text
    assert 'retired = "0005-01-01T00:00:00Z"' in text
    again = LockFile.read(path)
    assert again.ownership("demo-pkg").retired_at(ALICE) == 0
    assert _verdict(again) is Reason.NOT_OWNER


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("https://alice:s3cret-t0ken@index.test/simple/", "https://alice:****@index.test/simple/"),
        ("https://s3cret-t0ken@index.test/simple/", "https://****@index.test/simple/"),
        ("https://index.test/simple/", "https://index.test/simple/"),
    ],
)
def test_lock_file_never_writes_index_credentials(url, written):
    text = dumps(LockFile(index_url=url))
    assert "s3cret-t0ken" not in text
    assert loads(text).index_url == written
    assert dumps(loads(text)) == text


# -- regenerating over a previous lock (issue 8 §2) ---------------------------------------


def _retiring(fpr, when):
    """The demo record with ``fpr`` retired at ``when`` by whoever lists it."""
    record = _record()
    maintainers = tuple(
        Maintainer(
            user=m.user,
            role=m.role,
            keys=m.keys,
            retired=((fpr, parse_retired(when)),) if fpr in m.keys else (),
        )
        for m in record.maintainers
    )
    return OwnershipRecord(project=record.project, maintainers=maintainers)


def _older(fpr):
    """The demo certificate of ``fpr`` without its key revocation, armored."""
    from fakeindex import without_key_revocation

    return encode(without_key_revocation(fpr), "PUBLIC KEY BLOCK")


def _relock(records, certs, previous, **kw):
    return build_lock(
        records, certs, index_url="https://pypi.example/simple/", previous=previous, **kw
    )


def test_lock_changes_of_an_unchanged_lock_are_none():
    assert lockfile.lock_changes(_lock(), _relock([_record()], CERTS, _lock())) == ()


def test_lock_changes_say_what_changed():
    previous = _lock()
    other = OwnershipRecord(
        project="other", maintainers=(Maintainer(user="carol", role="Owner", keys=(CAROL,)),)
    )
    current = _relock([_retiring(BOB, "2024-05-01"), other], CERTS, previous)
    changes = lockfile.lock_changes(previous, current)
    assert [(c.project, c.fingerprint, c.widens, c.weakens) for c in changes] == [
        ("demo-pkg", BOB, False, False),
        ("other", None, True, False),
        ("other", CAROL, True, False),
        ("other", None, True, False),
    ]
    assert changes[0].describe() == (
        f"demo-pkg: retirement added user 'bob' key {BOB} (none -> 2024-05-01T00:00:00Z)"
    )
    assert [c.description for c in changes[1:]] == [
        "project pinned",
        f"key added key {CAROL} [WIDENS who may sign]",
        "user added user 'carol' [WIDENS who may sign]",
    ]
    back = lockfile.lock_changes(current, previous)
    assert ("other", None, "project no longer pinned") in [
        (c.project, c.fingerprint, c.description) for c in back
    ]
    assert [c.weakens for c in back if c.project == "demo-pkg"] == [True]


def test_lock_changes_weaken_when_a_retirement_moves_later():
    previous = _relock([_retiring(BOB, "2024-05-01")], CERTS, None)
    current = _relock([_retiring(BOB, "2024-06-01")], CERTS, previous)
    (change,) = lockfile.lock_changes(previous, current)
    assert (change.weakens, change.widens) == (True, True)
    assert change.describe().endswith("[WEAKENS: refused without --allow-weakening]")


def test_build_lock_keeps_a_revocation_the_previous_lock_held():
    previous = _lock()
    served = {**CERTS, DAVE: _older(DAVE)}
    kept = _relock([_record()], served, previous)
    assert kept.certificates[DAVE] == previous.certificates[DAVE]
    assert lockfile.lock_changes(previous, kept) == ()
    result = Verifier(
        kept.keyring_for("demo-pkg"), owners=kept.ownership("demo-pkg"), project="demo-pkg"
    ).verify(DEMO / "revoked" / WHEEL.name, at=AT)
    assert result.reason is Reason.KEY_REVOKED


def test_build_lock_allow_weakening_takes_the_served_copy():
    previous = _lock()
    weak = _relock([_record()], {**CERTS, DAVE: _older(DAVE)}, previous, allow_weakening=True)
    (change,) = lockfile.lock_changes(previous, weak)
    assert (change.fingerprint, change.weakens) == (DAVE, True)
    assert change.description == "1 packet(s) the previous lock held are dropped"
    result = Verifier(
        weak.keyring_for("demo-pkg"), owners=weak.ownership("demo-pkg"), project="demo-pkg"
    ).verify(DEMO / "revoked" / WHEEL.name, at=AT)
    assert result.ok


def test_build_lock_grows_a_certificate_with_new_packets():
    previous = _relock([_record()], {**CERTS, DAVE: _older(DAVE)}, None)
    grown = _relock([_record()], CERTS, previous)
    (change,) = lockfile.lock_changes(previous, grown)
    assert (change.fingerprint, change.description, change.weakens) == (
        DAVE,
        "1 new packet(s)",
        False,
    )
    assert grown.certificates[DAVE] == CERTS[DAVE]


def test_build_lock_keeps_a_listed_key_whose_key_file_disappeared():
    previous = _lock()
    served = {fpr: data for fpr, data in CERTS.items() if fpr != DAVE}
    kept = _relock([_record()], served, previous)
    assert kept.certificates[DAVE] == previous.certificates[DAVE]
    assert lockfile.lock_changes(previous, kept) == ()
    # the two-step laundering: the key file vanishes, then an older copy comes back
    again = _relock([_record()], {**CERTS, DAVE: _older(DAVE)}, kept)
    assert again.certificates[DAVE] == previous.certificates[DAVE]
    result = Verifier(
        again.keyring_for("demo-pkg"), owners=again.ownership("demo-pkg"), project="demo-pkg"
    ).verify(DEMO / "revoked" / WHEEL.name, at=AT)
    assert result.reason is Reason.KEY_REVOKED


def test_build_lock_allow_weakening_drops_a_key_whose_key_file_disappeared():
    previous = _lock()
    served = {fpr: data for fpr, data in CERTS.items() if fpr != DAVE}
    weak = _relock([_record()], served, previous, allow_weakening=True)
    assert DAVE not in weak.certificates
    assert DAVE in [c.fingerprint for c in lockfile.lock_changes(previous, weak)]


@pytest.mark.parametrize("name", ["nul\x00byte.lock", "x" * 300])
def test_lockfile_read_and_write_reject_an_unusable_path_with_a_lock_file_error(tmp_path, name):
    good = tmp_path / "good.lock"
    write_lock(good, _lock())  # the good twin
    assert LockFile.read(good) == _lock()
    with pytest.raises(LockFileError, match="cannot read lock file"):
        LockFile.read(tmp_path / name)
    with pytest.raises(LockFileError, match="cannot write lock file"):
        write_lock(tmp_path / name, _lock())


def test_lockfile_is_a_signer_policy():
    lock = _lock()
    assert lock.judge_signer("Demo_Pkg", ALICE, 0).allowed
    assert lock.judge_signer("demo-pkg", ALICE, 0).maintainer.user == "alice"
    refused = lock.judge_signer("other", ALICE, 0)
    assert refused.refusal == "the lock file pins nothing for project other"
    assert not lock.judge_signer("demo-pkg", "0" * 40, 0).allowed
    verifier = Verifier(lock.keyring_for("demo-pkg"), signers=lock, project="demo-pkg")
    result = verifier.verify(WHEEL, at=AT)
    assert result.ok
    assert result.maintainer.user == "alice"
    other = Verifier(lock.keyring_for("demo-pkg"), signers=lock, project="other")
    assert other.verify(WHEEL, at=AT).reason is Reason.NOT_OWNER


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")
def test_lockfile_read_rejects_a_device():
    with pytest.raises(LockFileError, match="lock file is a character device") as info:
        LockFile.read(Path("/dev/zero"))
    assert info.value.source == "/dev/zero"


@pytest.mark.parametrize("field", ["user", "role"])
@pytest.mark.parametrize("char", ["\\u009b", "\\u202e", "\\u2066", "\\u0007", "\\u2028"])
def test_lockfile_rejects_control_and_bidi_characters_in_a_user_or_role(field, char):
    text = _text()
    good = 'user = "alice"' if field == "user" else 'role = "Owner"'
    assert good in text
    assert loads(text)  # the good twin
    bad = good[:-2] + char + good[-2:]  # "alic\u202ee" in TOML's own escape
    with pytest.raises(LockFileError, match=f"'{field}' has a control, bidi") as err:
        loads(text.replace(good, bad, 1))
    assert char.encode().decode("unicode_escape") not in err.value.message  # shown escaped


def test_lockfile_keeps_an_unusual_but_plain_user_name():
    lock = LockFile(
        projects={
            "p": LockedProject(
                name="p",
                maintainers=(
                    Maintainer(
                        user="José \U0001f469\u200d\U0001f4bb \u0639\u0644\u064a",
                        role="Owner",
                        keys=(),
                    ),
                ),
            )
        }
    )
    assert loads(dumps(lock)) == lock
