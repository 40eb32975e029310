"""Submissions as an LMS hands them over: notebooks, folders, bulk-download zips, students' identities."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.core.errors import SubmissionError
from symderiv.grading.grade import grade_file, grade_submission
from symderiv.grading.results import GradeConfig
from symderiv.reading.collect import MAX_RATIO, collect
from symderiv.reading.identity import identify
from symderiv.reading.notebook import location, read_notebook
from symderiv.reading.roster import load_roster

ROOT = Path(__file__).resolve().parents[1]
LMS = ROOT / "tests" / "fixtures" / "lms"
BOB = ROOT / "examples" / "softmax-bob.md"
ALICE = ROOT / "examples" / "softmax-alice.md"
FAST = GradeConfig(symbolic=False)


# ---- identities from file names -------------------------------------------------------------


@pytest.mark.parametrize(
    "path, expected",
    [
        ("smithjane_123456_7890123_hw2.md", dict(name="smithjane", id="123456", attachment="7890123", late=False)),
        ("subs/smithjane_LATE_123456_7890123_hw2.md", dict(name="smithjane", id="123456", late=True)),
        ("smithjane_late_123456_7890123_My Derivation-1.ipynb", dict(id="123456", late=True)),
        ("okaforchidi_123457_7890124_hw_2_final.md", dict(name="okaforchidi", id="123457", attachment="7890124")),
        ("Jane Smith_4101_assignsubmission_file_hw2.md", dict(name="Jane Smith", id="4101", source="moodle")),
        ("dl/Chidi Okafor_4102_assignsubmission_file_/hw2.md", dict(name="Chidi Okafor", id="4102")),
        ("Jane Smith_4101_assignsubmission_onlinetext_onlinetext.html", dict(id="4101", source="moodle")),
    ],
    ids=["canvas", "canvas-LATE", "canvas-late", "canvas-underscores", "moodle", "moodle-folder", "moodle-text"],
)
def test_identity_from_lms_file_names(path, expected):
    student = identify(path)
    assert student is not None
    for key, value in expected.items():
        assert getattr(student, key) == value, key


@pytest.mark.parametrize(
    "path", ["hw2.md", "alice/hw2.md", "hw_2_final.md", "123_hw.md"], ids=["plain", "folder", "underscores", "number"]
)
def test_names_without_the_pattern_have_no_identity(path):
    assert identify(path) is None


def test_canvas_roster_fills_in_the_gradebook_columns():
    roster = load_roster(LMS / "canvas_gradebook_export.csv")
    assert [s.name for s in roster.students] == [
        "Smith, Jane",
        "Okafor, Chidi",
        "Nguyen, Bao",
        "Garcia, Ana",
        "Patel, Raj",
        "Student, Test",
    ]  # not "Points Possible"; Canvas's test student is a row of the gradebook like any other
    s = roster.find(identify("smithjane_123456_7890123_hw2.md"))
    assert (s.name, s.id, s.sis_id, s.login, s.section) == (
        "Smith, Jane",
        "123456",
        "S0012",
        "jsmith",
        "CS 4780 Section 1",
    )
    assert roster.find(identify("nobody_555_666_hw.md")) is None
    # no id in the file name: never guessed from a login or a name in it (issue 22)
    assert roster.find(identify("hw2_cokafor.md")) is None


def test_moodle_worksheet_is_a_roster():
    roster = load_roster(LMS / "moodle_grading_worksheet.csv")
    s = roster.find(identify("Chidi Okafor_4102_assignsubmission_file_hw2.md"))
    assert (s.id, s.email) == ("4102", "chidi.okafor@example.edu")


def test_a_file_that_is_not_a_roster_is_a_one_line_error(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SubmissionError, match="not a roster"):
        load_roster(bad)


# ---- zips and folders ------------------------------------------------------------------------


def canvas_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_canvas_zip_maps_to_students(tmp_path):
    archive = canvas_zip(
        tmp_path / "submissions.zip",
        {
            "smithjane_123456_7890123_hw2.md": ALICE.read_bytes(),
            "okaforchidi_LATE_123457_7890124_hw2.md": BOB.read_bytes(),
            "__MACOSX/._smithjane_123456_7890123_hw2.md": b"junk",
        },
    )
    roster = load_roster(LMS / "canvas_gradebook_export.csv")
    subs = collect([str(archive)], tmp_path / "work", roster)
    assert [s.display for s in subs] == [
        f"{archive}/smithjane_123456_7890123_hw2.md",
        f"{archive}/okaforchidi_LATE_123457_7890124_hw2.md",
    ]
    reports = [grade_submission(s, "softmax-2layer", FAST) for s in subs]
    assert [(r.student.name, r.student.id, r.student.late, r.score) for r in reports] == [
        ("Smith, Jane", "123456", False, 5.0),
        ("Okafor, Chidi", "123457", True, 2.0),
    ]
    assert all(r.file.startswith(str(archive)) and r.to_dict()["student"]["id"] for r in reports)


@pytest.mark.parametrize(
    "member, reason",
    [
        ("../../evil.md", "climbs out"),
        ("/etc/evil.md", "absolute"),
        ("C:/evil.md", "absolute"),
    ],
    ids=["dotdot", "absolute", "drive"],
)
def test_unsafe_zip_members_are_refused_and_listed(tmp_path, member, reason):
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ok_1_2_hw.md", ALICE.read_bytes())
        z.writestr(zipfile.ZipInfo(member), b"$$x$$")
    subs = collect([str(archive)], tmp_path / "work")
    assert len(subs) == 2 and subs[0].error is None
    assert reason in subs[1].error and not subs[1].path
    assert not (tmp_path / "evil.md").exists() and not Path("/etc/evil.md").exists()
    report = grade_submission(subs[1], "softmax-2layer", FAST)
    assert report.error and report.parts == ()


def test_symlink_in_zip_is_not_followed(tmp_path):
    archive = tmp_path / "s.zip"
    info = zipfile.ZipInfo("link.md")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(info, "/etc/passwd")
    (sub,) = collect([str(archive)], tmp_path / "work")
    assert "link" in sub.error


def test_zip_bomb_member_is_listed_not_extracted(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a_1_2_hw.md", b"0" * (8 * 1024 * 1024))  # 8 MB of zeros: ~8 KB packed
        z.writestr("b_3_4_hw.md", ALICE.read_bytes())
    assert MAX_RATIO < 1000
    bomb, good = collect([str(archive)], tmp_path / "work")  # issue 22: the bomb costs only itself
    assert "zip bomb" in bomb.error and not bomb.path
    assert good.error is None and Path(good.path).read_bytes() == ALICE.read_bytes()


def test_oversized_member_is_listed_not_extracted(tmp_path):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a_1_2_hw.md", b"x" * (2 * 1024 * 1024 + 10))
    (sub,) = collect([str(archive)], tmp_path / "work")
    assert "too large" in sub.error and not list((tmp_path / "work").rglob("*.md"))


def test_not_a_zip_is_an_entry_with_a_one_line_error(tmp_path):
    fake = tmp_path / "s.zip"
    fake.write_bytes(b"not a zip")
    (sub,) = collect([str(fake)], tmp_path / "work")
    assert sub.display == str(fake) and "not a readable zip" in sub.error and "\n" not in sub.error


def test_a_folder_is_read_recursively_without_hidden_files(tmp_path):
    (tmp_path / "sec1" / "deep").mkdir(parents=True)
    (tmp_path / "sec1" / "a.md").write_text("$$x$$")
    (tmp_path / "sec1" / "deep" / "b.ipynb").write_text("{}")
    (tmp_path / "sec1" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.md").write_text("x")
    subs = collect([str(tmp_path)], tmp_path / "work")
    assert [Path(s.path).name for s in subs] == ["a.md", "b.ipynb"]


# ---- notebooks -------------------------------------------------------------------------------


def notebook_of(markdown_cells: list[str], latex_outputs: tuple[str, ...] = ()) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(md) for md in markdown_cells]
    for latex in latex_outputs:
        code = nbformat.v4.new_code_cell("display(Math(r'...'))")
        code.outputs = [nbformat.v4.new_output("display_data", data={"text/latex": latex, "text/plain": "<Math>"})]
        nb.cells.append(code)
    return nbformat.writes(nb)


@pytest.mark.parametrize("example", [ALICE, BOB], ids=["alice", "bob"])
def test_a_notebook_grades_exactly_like_the_same_markdown(tmp_path, example):
    nb = tmp_path / f"{example.stem}.ipynb"
    nb.write_text(notebook_of([example.read_text(encoding="utf-8")]), encoding="utf-8")
    as_md, as_nb = (
        grade_file(example, "softmax-2layer", FAST).to_dict(),
        grade_file(nb, "softmax-2layer", FAST).to_dict(),
    )
    for d in (as_md, as_nb):
        d.pop("file")
        for p in d["parts"]:
            p.pop("location", None)
            (p.get("check") or {}).pop("seconds", None)
    assert as_md == as_nb


def test_notebook_lines_name_the_cell(tmp_path):
    md = BOB.read_text(encoding="utf-8").split("\n")
    first, second = "\n".join(md[:8]), "\n".join(md[8:])
    nb = tmp_path / "bob.ipynb"
    nb.write_text(notebook_of([first, second]), encoding="utf-8")
    report = grade_file(nb, "softmax-2layer", FAST)
    by_q = {p.quantity: p for p in report.parts}
    assert report.where(by_q["dJt/dW2"].line) == "cell 1, line 7"
    assert report.where(by_q["dJ/db1"].line).startswith("cell 2, line ")
    assert by_q["dJt/dW2"].verdict == "incorrect" and by_q["dJ/dz3"].verdict == "correct"
    assert report.to_dict()["parts"][1]["location"] == "cell 1, line 7"


def test_latex_in_code_cell_outputs_is_graded(tmp_path):
    nb = tmp_path / "out.ipynb"
    claim = r"$$\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)$$"
    nb.write_text(notebook_of(["My answer, computed below."], (claim,)), encoding="utf-8")
    report = grade_file(nb, "softmax-2layer", FAST)
    part = next(p for p in report.parts if p.quantity == "dJ/dz3")
    assert part.verdict == "correct" and report.where(part.line) == "cell 2 output, line 1"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("{not json", "not a valid Jupyter notebook"),
        (json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}), "no Markdown cells"),
        (json.dumps([1, 2]), "not a valid Jupyter notebook"),
    ],
    ids=["broken-json", "no-cells", "a-list"],
)
def test_bad_notebooks_are_one_line_errors(tmp_path, raw, reason):
    nb = tmp_path / "x.ipynb"
    nb.write_text(raw)
    report = grade_file(nb, "softmax-2layer", FAST)
    assert report.error and reason in report.error and "\n" not in report.error


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
        max_leaves=20,
    )
)
def test_any_json_is_a_notebook_or_a_submission_error(value):
    try:
        nb = read_notebook(json.dumps(value), "x.ipynb")
    except SubmissionError as exc:
        assert str(exc).startswith("x.ipynb: ")
    else:
        assert nb.text.strip() and nb.cells


@pytest.mark.parametrize(
    "cells, line, expected",
    [
        ((), 7, "line 7"),
        (((1, 1, ""), (5, 3, ""), (9, 4, " output")), 6, "cell 3, line 2"),
        (((1, 1, ""), (5, 3, ""), (9, 4, " output")), 9, "cell 4 output, line 1"),
        (((1, 2, ""),), None, ""),
    ],
    ids=["plain", "cell", "output", "no-line"],
)
def test_location(cells, line, expected):
    assert location(cells, line) == expected


def test_a_pdf_is_refused_with_what_to_submit_instead(tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    report = grade_file(pdf, "softmax-2layer", FAST)
    assert report.error == f"{pdf}: is binary (a PDF), not text: submit the derivation as .md, .tex, .txt or .ipynb"
