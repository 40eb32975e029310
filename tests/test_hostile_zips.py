"""Issue 22, item 2: a bad zip member (or a bad zip) costs only itself.

Each row builds an archive as an attacker or a broken LMS download would, and says what each
entry must be: graded ("ok", with the content it must have been extracted with) or listed with
an error naming it and the reason. Nothing raises and the rest of the archive is extracted.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv.reading.archive import MAX_MEMBERS, MAX_RATIO, disk_name, extract_zip
from symderiv.reading.collect import collect
from symderiv.reading.submission import MAX_BYTES

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "examples" / "softmax-alice.md").read_bytes()
OTHER = b"$$\\frac{\\partial J}{\\partial z^{(3)}} = \\frac{1}{N}(\\Delta - \\psi(z^{(3)}))$$\n"


def zip_bytes(members, method=zipfile.ZIP_DEFLATED) -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return bytearray(buffer.getvalue())


def with_bad_crc() -> bytes:
    data = zip_bytes([("a_1_2_hw.md", OTHER), ("b_3_4_hw.md", GOOD)], zipfile.ZIP_STORED)
    data[data.find(b"$$") + 5] ^= 0xFF
    return bytes(data)


def with_method(method: int) -> bytes:
    data = zip_bytes([("a_1_2_hw.md", OTHER), ("b_3_4_hw.md", GOOD)], zipfile.ZIP_STORED)
    data[8:10] = struct.pack("<H", method)  # the first local header
    central = data.find(b"PK\x01\x02")
    data[central + 10 : central + 12] = struct.pack("<H", method)
    return bytes(data)


def with_name_bytes(old: bytes, new: bytes) -> bytes:
    """Rename a member in place (same length), keeping its UTF-8 flag."""
    assert len(old) == len(new)
    return bytes(zip_bytes([(old.decode(), OTHER), ("b_3_4_hw.md", GOOD)]).replace(old, new))


def lying_size() -> bytes:
    """A bomb whose headers say it unpacks to 100 bytes."""
    data = zip_bytes([("a_1_2_hw.md", b"0" * (20 * MAX_BYTES)), ("b_3_4_hw.md", GOOD)])
    size = struct.pack("<L", 20 * MAX_BYTES)
    assert data.count(size) == 2  # the local header and the central directory
    return bytes(data.replace(size, struct.pack("<L", 100)))


def truncated() -> bytes:
    return bytes(zip_bytes([("a_1_2_hw.md", OTHER), ("b_3_4_hw.md", GOOD)])[:-30])


def with_duplicates() -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        return bytes(zip_bytes([("x/a.md", OTHER), ("x/a.md", GOOD)]))


def repetitive(size: int) -> bytes:
    line = b"$$\\frac{\\partial J}{\\partial z^{(3)}} = \\frac{1}{N}(\\psi(z^{(3)}) - \\Delta)$$\n"
    return (line * (size // len(line) + 1))[:size]


OK = "ok"
CASES = [
    pytest.param(with_bad_crc(), [("a_1_2_hw.md", "Bad CRC"), ("b_3_4_hw.md", GOOD)], id="bad-crc"),
    pytest.param(
        with_method(98), [("a_1_2_hw.md", "compression method"), ("b_3_4_hw.md", GOOD)], id="unsupported-method"
    ),
    pytest.param(
        bytes(zip_bytes([("x" * 300 + ".md", OTHER), ("b_3_4_hw.md", GOOD)])),
        [("x" * 300 + ".md", OTHER), ("b_3_4_hw.md", GOOD)],
        id="name-too-long-for-the-file-system",
    ),
    pytest.param(
        bytes(zip_bytes([("/".join(["d" * 200] * 40) + "/x.md", OTHER), ("b_3_4_hw.md", GOOD)])),
        [("/".join(["d" * 200] * 40) + "/x.md", OTHER), ("b_3_4_hw.md", GOOD)],
        id="deep-path",
    ),
    pytest.param(
        bytes(zip_bytes([("a", OTHER), ("a/x.md", GOOD)])), [("a", OTHER), ("a/x.md", GOOD)], id="file-then-folder"
    ),
    pytest.param(
        bytes(zip_bytes([("a/x.md", GOOD), ("a", OTHER)])), [("a/x.md", GOOD), ("a", OTHER)], id="folder-then-file"
    ),
    pytest.param(
        bytes(zip_bytes([("x/./a.md", OTHER), ("x/a.md", GOOD)])),
        [("x/./a.md", OTHER), ("x/a.md", "same name as the earlier member 'x/./a.md'")],
        id="equal-after-normalisation",
    ),
    pytest.param(
        bytes(zip_bytes([("x\\a.md", OTHER), ("x/a.md", GOOD)])),
        [("x\\a.md", OTHER), ("x/a.md", "same name as the earlier member")],
        id="backslash-and-slash",
    ),
    pytest.param(
        bytes(zip_bytes([("cafe\u0301.md", OTHER), ("caf\u00e9.md", GOOD)])),
        [("cafe\u0301.md", OTHER), ("caf\u00e9.md", "same name as the earlier member")],
        id="unicode-nfc",
    ),
    pytest.param(
        with_duplicates(), [("x/a.md", OTHER), ("x/a.md", "same name as the earlier member")], id="duplicate-name"
    ),
    pytest.param(
        with_name_bytes("café_1_2.md".encode(), b"caf\xe9\xff_1_2.md"),
        [("caf\udce9\udcff_1_2.md", "marked as UTF-8 but is not UTF-8"), ("b_3_4_hw.md", GOOD)],
        id="non-utf8-name-flagged-utf8",
    ),
    pytest.param(
        bytes(zip_bytes([("a_1_2_hw.md", repetitive(1_200_000)), ("b_3_4_hw.md", GOOD)])),
        [("a_1_2_hw.md", repetitive(1_200_000)), ("b_3_4_hw.md", GOOD)],
        id="1.2MB-repetitive-markdown-is-not-a-bomb",
    ),
    pytest.param(
        bytes(zip_bytes([("a_1_2_hw.md", repetitive(MAX_BYTES)), ("b_3_4_hw.md", GOOD)])),
        [("a_1_2_hw.md", repetitive(MAX_BYTES)), ("b_3_4_hw.md", GOOD)],
        id="2MB-repetitive-markdown-is-not-a-bomb",
    ),
    pytest.param(
        bytes(zip_bytes([("a_1_2_hw.md", b"0" * (20 * MAX_BYTES)), ("b_3_4_hw.md", GOOD)])),
        [("a_1_2_hw.md", "zip bomb"), ("b_3_4_hw.md", GOOD)],
        id="a-bomb-member-costs-only-itself",
    ),
    pytest.param(lying_size(), [("a_1_2_hw.md", "cannot be extracted"), ("b_3_4_hw.md", GOOD)], id="lying-size"),
    pytest.param(
        bytes(zip_bytes([("a_1_2_hw.md", os.urandom(MAX_BYTES + 10)), ("b_3_4_hw.md", GOOD)], zipfile.ZIP_STORED)),
        [("a_1_2_hw.md", "too large"), ("b_3_4_hw.md", GOOD)],
        id="over-large-member",
    ),
    pytest.param(
        bytes(zip_bytes([("../../evil.md", OTHER), ("b_3_4_hw.md", GOOD)])),
        [("../../evil.md", "climbs out"), ("b_3_4_hw.md", GOOD)],
        id="dotdot",
    ),
    pytest.param(b"PK\x03\x04garbage", [(None, "not a readable zip")], id="corrupt-zip"),
    pytest.param(truncated(), [(None, "not a readable zip")], id="truncated-zip"),
    pytest.param(b"", [(None, "not a readable zip")], id="empty-file"),
    pytest.param(bytes(zip_bytes([])), [(None, "no submission files in it")], id="empty-zip"),
    pytest.param(
        bytes(zip_bytes([("__MACOSX/._a.md", b"x"), (".DS_Store", b"x")])),
        [(None, "no submission files")],
        id="only-hidden",
    ),
]


@pytest.mark.parametrize("archive, expected", CASES)
def test_a_bad_member_costs_only_itself(tmp_path, archive, expected):
    path = tmp_path / "hw.zip"
    path.write_bytes(archive)
    members = extract_zip(path, tmp_path / "work")
    assert len(members) == len(expected)
    for member, (name, want) in zip(members, expected):
        assert member.display == (str(path) if name is None else f"{path}/{name}")
        if isinstance(want, bytes):
            assert member.error is None and Path(member.path).read_bytes() == want
            assert Path(member.path).is_relative_to(tmp_path / "work")
        else:
            assert member.path == "" and want in member.error and member.error.startswith(member.display)
            assert "\n" not in member.error
    assert not (tmp_path / "evil.md").exists() and not (tmp_path.parent / "evil.md").exists()


def test_the_bomb_limit_is_the_total_unpacked(tmp_path, monkeypatch):
    """Past MAX_TOTAL unpacked bytes in all, the further members are listed, not extracted."""
    monkeypatch.setattr("symderiv.reading.archive.MAX_TOTAL", 3 * len(GOOD))
    path = tmp_path / "hw.zip"
    path.write_bytes(bytes(zip_bytes([(f"s{i}_{i}_1_hw.md", GOOD) for i in range(5)])))
    members = extract_zip(path, tmp_path / "work")
    assert [m.error is None for m in members] == [True, True, True, False, False]
    assert all("zip bomb" in m.error for m in members[3:])
    assert MAX_RATIO < 1000  # deflate reaches ~1000x: a member past 2 MB at that ratio is named a bomb


def test_a_table_of_contents_of_4_gb_is_not_read(tmp_path):
    """The end record says the central directory is 4 GB (zipfile would read it all into memory);
    the file is 5 GB of holes before a small zip, so the claim is not impossible on its face."""
    data = zip_bytes([("a_1_2_hw.md", OTHER)])
    end = data.rfind(b"PK\x05\x06")
    data[end + 12 : end + 16] = struct.pack("<L", 0xFFFFFFF0)
    path = tmp_path / "huge.zip"
    with open(path, "wb") as f:
        f.seek(5 * 2**30)  # a sparse file: no disk used
        f.write(bytes(data))
    (entry,) = extract_zip(path, tmp_path / "work")
    assert "table of contents claims 4294967280 bytes" in entry.error


def test_too_many_members_is_one_entry_for_the_zip(tmp_path):
    path = tmp_path / "many.zip"
    path.write_bytes(bytes(zip_bytes([(f"{i}.md", b"x") for i in range(MAX_MEMBERS + 1)], zipfile.ZIP_STORED)))
    (entry,) = extract_zip(path, tmp_path / "work")
    assert entry.display == str(path) and "more than the 5000" in entry.error


@pytest.mark.parametrize(
    "name, expected",
    [
        ("smithjane_1_2_hw2.md", "smithjane_1_2_hw2.md"),
        ("Notebook.IPYNB", "Notebook.ipynb"),
        ("x" * 300 + ".md", "x" * 80 + ".md"),
        ("a b/é.tex", "a_b.tex"),
        ("noext", "noext"),
        ("é", "member"),
        ("a." + "x" * 20, "a_" + "x" * 20),
    ],
    ids=["plain", "suffix-case", "long", "unsafe-characters", "no-extension", "nothing-safe", "long-suffix"],
)
def test_disk_names_are_short_and_keep_the_extension(name, expected):
    assert disk_name(name) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=8))
def test_any_corruption_is_entries_never_an_exception(tmp_path, flips):
    data = zip_bytes([("a_1_2_hw.md", OTHER), ("sub/b_3_4_hw.md", GOOD), ("c_5_6_hw.ipynb", b"{}")])
    for at, mask in flips:
        data[at % len(data)] ^= mask
    path = tmp_path / "fuzzed.zip"
    path.write_bytes(bytes(data))
    work = tmp_path / f"work{abs(hash(bytes(data)))}"
    for member in extract_zip(path, work):
        assert (member.path == "") == (member.error is not None)
        assert member.error is None or (member.error.startswith(member.display) and "\n" not in member.error)


def test_the_rest_of_the_batch_is_graded(tmp_path):
    """`grade` over a corrupt zip, a zip with a bad member and a good file: every entry listed, the good ones graded."""
    (tmp_path / "corrupt.zip").write_bytes(b"PK\x03\x04garbage")
    (tmp_path / "crc.zip").write_bytes(with_bad_crc())
    (tmp_path / "nonutf.zip").write_bytes(with_name_bytes("café_1_2.md".encode(), b"caf\xe9\xff_1_2.md"))
    good = tmp_path / "good.md"
    good.write_bytes(GOOD)
    names = ["corrupt.zip", "crc.zip", "nonutf.zip", "good.md"]
    proc = subprocess.run(
        [sys.executable, "-m", "symderiv.cli", "grade", "--no-symbolic", "--key", "softmax-2layer", "--json", *names],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    reports = {r["file"]: r for r in json.loads(proc.stdout)}
    assert set(reports) == {
        "corrupt.zip",
        "crc.zip/a_1_2_hw.md",
        "crc.zip/b_3_4_hw.md",
        "nonutf.zip/caf\\xe9\\xff_1_2.md",
        "nonutf.zip/b_3_4_hw.md",
        "good.md",
    }
    graded = {f for f, r in reports.items() if not r.get("error")}
    assert graded == {"crc.zip/b_3_4_hw.md", "nonutf.zip/b_3_4_hw.md", "good.md"}
    assert all(reports[f]["score"] == 5.0 for f in graded)


def test_collect_lists_each_zip_under_its_own_folder(tmp_path):
    """An empty zip before another does not make the second extract over the first."""
    (tmp_path / "empty.zip").write_bytes(bytes(zip_bytes([])))
    (tmp_path / "a.zip").write_bytes(bytes(zip_bytes([("a_1_2_hw.md", OTHER)])))
    (tmp_path / "b.zip").write_bytes(bytes(zip_bytes([("b_3_4_hw.md", GOOD)])))
    empty, *subs = collect([str(tmp_path / n) for n in ("empty.zip", "a.zip", "b.zip")], tmp_path / "work")
    assert "no submission files" in empty.error
    assert [Path(s.path).read_bytes() for s in subs] == [OTHER, GOOD]
