import json
from pathlib import Path

import pytest

from pgpverify.errors import LimitExceededError, OwnersError
from pgpverify.limits import Limits
from pgpverify.trust.owners import OwnershipRecord, parse_fingerprint

ALICE = "A872B2FC7416C5780D1ABCEBC15B9CCFC304B4B1"
BOB = "3C421176B1793C45F97D00707A2774A7AE70FFA2"


def record(**over):
    doc = {
        "project": "Demo_Pkg",
        "maintainers": [
            {"user": "alice", "role": "Owner", "keys": [ALICE.lower()]},
            {"user": "bob", "role": "Maintainer", "keys": [BOB]},
            {"user": "eve", "role": "Viewer", "keys": ["1" * 40]},
        ],
    }
    doc.update(over)
    return json.dumps(doc).encode()


def test_owners_parses_and_normalises_fingerprints():
    rec = OwnershipRecord.from_bytes(record())
    assert rec.project == "Demo_Pkg"
    assert rec.normalized_project == "demo-pkg"
    assert rec.maintainers[0].keys == (ALICE,)
    assert rec.signer(ALICE.lower()).user == "alice"
    assert rec.signer(BOB).role == "Maintainer"


def test_owners_only_owner_and_maintainer_roles_may_sign():
    rec = OwnershipRecord.from_bytes(record())
    assert rec.signer("1" * 40) is None
    assert rec.signer("2" * 40) is None


@pytest.mark.parametrize("name", ["demo-pkg", "DEMO.PKG", "demo__pkg", "Demo_Pkg"])
def test_owners_project_names_compare_after_pep503(name):
    assert OwnershipRecord.from_bytes(record()).is_for(name)


def test_owners_other_project_does_not_match():
    assert not OwnershipRecord.from_bytes(record()).is_for("demo-pkg2")


def test_owners_ignores_unknown_fields():
    doc = json.loads(record())
    doc["generated"] = "2025-01-01"
    doc["maintainers"][0]["email"] = "alice@example.org"
    rec = OwnershipRecord.from_bytes(json.dumps(doc).encode())
    assert rec.signer(ALICE).user == "alice"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[]", "must be a JSON object"),
        (b'{"maintainers": []}', "lacks the field 'project'"),
        (b'{"project": "x"}', "lacks the field 'maintainers'"),
        (b'{"project": 1, "maintainers": []}', "'project' must be a string"),
        (b'{"project": "x", "maintainers": {}}', "'maintainers' must be a list"),
        (b'{"project": "x", "maintainers": [1]}', "maintainers[0] must be an object"),
        (
            b'{"project": "x", "maintainers": [{"role": "Owner", "keys": []}]}',
            "lacks the field 'user'",
        ),
        (
            b'{"project": "x", "maintainers": [{"user": "a", "role": "Owner", "keys": "AB"}]}',
            "'keys' must be a list",
        ),
        (
            b'{"project": "x", "maintainers": [{"user": "a", "role": "Owner", "keys": [5]}]}',
            "keys[0] must be a fingerprint or an object",
        ),
        (
            b'{"project": "x", "maintainers": [{"user": "a", "role": "Owner", "keys": ["ABCD"]}]}',
            "not a v4 key fingerprint",
        ),
        (b'{"project": " ", "maintainers": []}', "'project' is empty"),
        (b"[" * 100000 + b"]" * 100000, ""),
    ],
)
def test_owners_rejects_bad_records(data, message):
    with pytest.raises(OwnersError) as err:
        OwnershipRecord.from_bytes(data, source="owners.json")
    assert message in str(err.value)
    assert str(err.value).startswith("owners.json: ")
    assert "\n" not in str(err.value)


def test_owners_file_size_is_bounded(tmp_path: Path):
    path = tmp_path / "owners.json"
    path.write_bytes(record() + b" " * 2000)
    with pytest.raises(LimitExceededError):
        OwnershipRecord.from_file(path, limits=Limits(owners_bytes=1000))


def test_owners_missing_file_is_an_input_error(tmp_path: Path):
    with pytest.raises(OwnersError.__mro__[1]) as err:
        OwnershipRecord.from_file(tmp_path / "nope.json")
    assert "not found" in str(err.value)


def test_fingerprint_accepts_spaces_and_lower_case():
    assert parse_fingerprint("a872 b2fc 7416 c578 0d1a  bceb c15b 9ccf c304 b4b1") == ALICE


def test_owners_key_may_be_an_object_with_a_retirement_date():
    doc = {
        "project": "demo-pkg",
        "maintainers": [
            {
                "user": "alice",
                "role": "Owner",
                "keys": [{"fingerprint": ALICE, "retired": "2024-05-01"}, BOB],
            },
        ],
    }
    rec = OwnershipRecord.from_bytes(json.dumps(doc).encode())
    alice = rec.signer(ALICE)
    assert alice is not None
    assert alice.keys == (ALICE, BOB)
    assert alice.retired_at(ALICE) == 1714521600  # 2024-05-01T00:00:00Z
    assert alice.retired_at(BOB) is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"retired": "2024-05-01"}, "lacks the field 'fingerprint'"),
        ({"fingerprint": ALICE, "retired": 5}, "'retired' must be a string"),
        ({"fingerprint": ALICE, "retired": "last may"}, "not an ISO 8601 date"),
        (7, "must be a fingerprint or an object"),
    ],
)
def test_owners_rejects_bad_key_objects(entry, message):
    doc = {"project": "x", "maintainers": [{"user": "a", "role": "Owner", "keys": [entry]}]}
    with pytest.raises(OwnersError, match=message):
        OwnershipRecord.from_bytes(json.dumps(doc).encode())


def test_owners_rejects_a_retirement_date_out_of_range():
    doc = {
        "project": "x",
        "maintainers": [
            {
                "user": "a",
                "role": "Owner",
                "keys": [{"fingerprint": ALICE, "retired": "9999-12-31T23:59:59-12:00"}],
            }
        ],
    }
    with pytest.raises(OwnersError, match="out of range"):
        OwnershipRecord.from_bytes(json.dumps(doc).encode())


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("al\\ud800ice", "not valid Unicode"),
        ("al\\u0000ice", "control characters"),
        ("al\\nice", "control characters"),
        ("al\\u009bice", "control characters"),
        ("al\\u0085ice", "control characters"),
        ("al\\u202eice", "bidi or invisible format character"),
        ("al\\u2066ice", "bidi or invisible format character"),
        ("al\\u200fice", "bidi or invisible format character"),
        ("al\\u200bice", "bidi or invisible format character"),
        ("al\\u2028ice", "line separator"),
        ("al\\u2029ice", "paragraph separator"),
    ],
)
def test_owners_rejects_unprintable_strings(user, message):
    data = (
        '{"project": "x", "maintainers": [{"user": "' + user + '", "role": "Owner", "keys": []}]}'
    ).encode()
    with pytest.raises(OwnersError, match=message):
        OwnershipRecord.from_bytes(data)


def test_owners_key_retired_by_any_maintainer_is_retired():
    doc = {
        "project": "x",
        "maintainers": [
            {"user": "alice", "role": "Owner", "keys": [ALICE]},
            {
                "user": "bob",
                "role": "Maintainer",
                "keys": [{"fingerprint": ALICE, "retired": "2024-05-01"}],
            },
        ],
    }
    rec = OwnershipRecord.from_bytes(json.dumps(doc).encode())
    assert rec.signer(ALICE).user == "alice"
    assert rec.retired_at(ALICE) == 1714521600
    assert rec.retired_at(BOB) is None


def _retiring(*entries):
    """A record whose maintainers list ALICE with these retirement dates (None: plainly)."""
    maintainers = []
    for i, dates in enumerate(entries):
        keys = [ALICE if d is None else {"fingerprint": ALICE, "retired": d} for d in dates]
        maintainers.append({"user": f"m{i}", "role": "Owner", "keys": keys})
    return OwnershipRecord.from_json({"project": "x", "maintainers": maintainers})


@pytest.mark.parametrize("date", ["1970-01-01", "1970-01-01T00:00:00Z", "1970-01-01T01:00+01:00"])
def test_owners_retirement_at_the_epoch_is_a_retirement(date):
    rec = _retiring([date])
    assert rec.maintainers[0].retired_at(ALICE) == 0
    assert rec.retired_at(ALICE) == 0
    # Its twin, a key listed plainly, is not retired.
    assert _retiring([None]).retired_at(ALICE) is None


def test_owners_retirement_before_the_epoch_is_a_retirement():
    assert _retiring(["1969-12-31T23:59:59Z"]).retired_at(ALICE) == -1
    assert _retiring(["0001-01-01"]).retired_at(ALICE) == -62135596800


@pytest.mark.parametrize(
    ("entries", "earliest"),
    [
        ((["2024-05-01", "1970-01-01"],), 0),  # one maintainer, twice
        ((["1970-01-01", "2024-05-01"],), 0),
        ((["2024-05-01"], ["1970-01-01"]), 0),  # two maintainers
        ((["1970-01-01"], ["2024-05-01"]), 0),
        ((["2024-05-01"], [None], ["2024-06-01"]), 1714521600),
        (([None], ["2024-06-01", "2024-05-01"]), 1714521600),
    ],
)
def test_owners_earliest_retirement_counts(entries, earliest):
    assert _retiring(*entries).retired_at(ALICE) == earliest
    assert _retiring(*reversed(entries)).retired_at(ALICE) == earliest


@pytest.mark.parametrize("field", ["user", "role", "project"])
@pytest.mark.parametrize("char", ["\u009b", "\u202e", "\u061c", "\u2069"])
def test_owners_rejects_c1_and_bidi_characters_naming_the_field(field, char):
    doc = {
        "project": "demo-pkg",
        "maintainers": [{"user": "alice", "role": "Owner", "keys": [ALICE]}],
    }
    assert OwnershipRecord.from_json(doc).maintainers[0].user == "alice"  # the good twin
    target = doc if field == "project" else doc["maintainers"][0]
    target[field] = target[field][:2] + char + target[field][2:]
    with pytest.raises(OwnersError, match=f"'{field}' has") as err:
        OwnershipRecord.from_json(doc)
    assert char not in err.value.message  # shown escaped


@pytest.mark.parametrize("name", ["Zoë", "José Ñúñez", "李小龙", "👩\u200d💻 dev", "كريم"])
def test_owners_keeps_accented_non_latin_and_joined_names(name):
    doc = {"project": "demo-pkg", "maintainers": [{"user": name, "role": "Owner", "keys": [ALICE]}]}
    assert OwnershipRecord.from_json(doc).maintainers[0].user == name
