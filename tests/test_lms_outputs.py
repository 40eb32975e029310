"""What goes back into a course's tools: Canvas and Moodle CSVs, Gradescope and PrairieLearn results,
feedback files, overrides, the class view and the terminal view."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from html import escape
from pathlib import Path

import pytest

from symderiv.answerkey.problem import load_problem
from symderiv.core.errors import SymderivError
from symderiv.grading.grade import grade_submission
from symderiv.grading.overrides import apply_late_penalty, apply_overrides, load_overrides
from symderiv.grading.results import GradeConfig, Part, Report
from symderiv.notation.mathtext import feedback_unicode
from symderiv.output.classview import class_view
from symderiv.output.feedback import feedback_markdown, feedback_text, write_feedback
from symderiv.output.html import submission_page
from symderiv.output.lms import CANVAS_COLUMNS, canvas_gradebook, moodle_worksheet
from symderiv.output.terminal import class_summary, grade_table
from symderiv.reading.collect import collect
from symderiv.reading.roster import load_roster

ROOT = Path(__file__).resolve().parents[1]
LMS = ROOT / "tests" / "fixtures" / "lms"
ALICE, BOB = ROOT / "examples" / "softmax-alice.md", ROOT / "examples" / "softmax-bob.md"
FAST = GradeConfig(symbolic=False)
PROBLEM = load_problem("softmax-2layer")


def symderiv(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "symderiv.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def canvas_class(tmp_path_factory):
    """A Canvas bulk download of three students (one unreadable) graded with the gradebook as roster."""
    tmp = tmp_path_factory.mktemp("canvas")
    archive = tmp / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("smithjane_123456_7890123_hw2.md", ALICE.read_bytes())
        z.writestr("okaforchidi_LATE_123457_7890124_hw2.md", BOB.read_bytes())
        z.writestr("nguyenbao_123458_7890125_scan.pdf", b"%PDF-1.4\n\x00\x01binary")
    roster = load_roster(LMS / "canvas_gradebook_export.csv")
    subs = collect([str(archive)], tmp / "work", roster)
    return archive, [grade_submission(s, PROBLEM, FAST) for s in subs]


# ---- Canvas and Moodle ------------------------------------------------------------------------


def test_canvas_gradebook_has_the_columns_of_its_export(canvas_class):
    _, reports = canvas_class
    roster = load_roster(LMS / "canvas_gradebook_export.csv")
    book = canvas_gradebook(reports, "HW 2: Backpropagation (98765)", 5, roster)
    rows = list(csv.reader(io.StringIO(book.text)))
    export = list(csv.reader((LMS / "canvas_gradebook_export.csv").open(encoding="utf-8")))
    assert tuple(rows[0][:5]) == CANVAS_COLUMNS == tuple(export[0][:5])
    assert rows[0][5] == export[0][5]  # the assignment column, named as exported
    assert rows[1][0] == "Points Possible" and rows[1][5] == "5"
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["123456"] == ["Smith, Jane", "123456", "S0012", "jsmith", "CS 4780 Section 1", "5"]
    assert by_id["123457"][5] == "2"
    assert "123458" not in by_id  # not graded: no row (an empty cell would erase a grade entered by hand)
    assert len(book.left_out) == 1 and book.left_out[0].startswith(reports[2].file)
    exported_ids = {r[1] for r in export[2:]}
    assert set(by_id) <= exported_ids  # every row matches a student of the export


def test_moodle_worksheet_is_the_roster_graded(tmp_path):
    folder = tmp_path / "moodle"
    for name, src in (
        ("Jane Smith_4101_assignsubmission_file_", ALICE),
        ("Chidi Okafor_4102_assignsubmission_file_", BOB),
    ):
        (folder / name).mkdir(parents=True)
        (folder / name / "hw2.md").write_bytes(src.read_bytes())
    roster = load_roster(LMS / "moodle_grading_worksheet.csv")
    reports = [grade_submission(s, PROBLEM, FAST) for s in collect([str(folder)], tmp_path / "w", roster)]
    book = moodle_worksheet(reports, roster, 5)
    rows = list(csv.DictReader(io.StringIO(book.text)))
    worksheet = list(csv.DictReader((LMS / "moodle_grading_worksheet.csv").open(encoding="utf-8")))
    assert list(rows[0]) == list(worksheet[0])  # every column of the worksheet, in its order
    assert [r["Identifier"] for r in rows] == [w["Identifier"] for w in worksheet]
    assert all(r["Last modified (grade)"] == w["Last modified (grade)"] for r, w in zip(rows, worksheet))
    bob = next(r for r in rows if r["Identifier"] == "Participant 4102")
    assert bob["Grade"] == "2" and bob["Maximum Grade"] == "5.00" and bob["Email address"] == "chidi.okafor@example.edu"
    comment = bob["Feedback comments"]
    assert comment.startswith("<p>Score 2/5.</p><ul><li>") and comment.count("<li>") == 5
    w2 = next(p for r in reports if r.student.id == "4102" for p in r.parts if p.quantity == "dJt/dW2")
    assert f"∂J̃/∂W⁽²⁾ 0/1: line 7: {escape(feedback_unicode(w2.feedback))}</li>" in comment  # the checker's words
    assert "\\" not in comment and "dJt/dW2" not in comment


def test_moodle_needs_its_worksheet():
    with pytest.raises(SymderivError, match="needs --roster"):
        moodle_worksheet([], None, 5)


def test_one_student_is_never_two_rows(canvas_class):
    _, reports = canvas_class
    twice = [reports[0], replace(reports[0], file="other.md")]
    with pytest.raises(SymderivError, match="both the student 123456"):
        canvas_gradebook(twice, "HW 2 (98765)", 5, load_roster(LMS / "canvas_gradebook_export.csv"))


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://evil","x")', "@SUM(1+1)", "+cmd", "-2+3", "\t=1+1", "a\x00b\x1b[31m", "rtl\u202eevil"],
    ids=["hyperlink", "at", "plus", "minus", "tab", "nul-escape", "bidi"],
)
def test_lms_files_neutralise_formulas_and_control_characters(tmp_path, name):
    roster_path = tmp_path / "g.csv"
    with roster_path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(
            [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW (1)"], [name, "5", name, "x", "S", ""]]
        )
    roster = load_roster(roster_path)
    student = replace(roster.students[0], source="canvas", file="hw.md")
    report = Report("x.md", "softmax-2layer", 1.0, 5.0, parts=(), student=student)
    text = canvas_gradebook([report], "HW (1)", 5, roster).text
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert cell.lstrip()[:1] not in ("=", "+", "@") and not (cell[:1] == "-" and cell not in ("-",))
            assert not any(ch in cell for ch in "\x00\x1b\u202e\t\r")


def test_grade_format_canvas_through_the_cli(canvas_class, tmp_path):
    archive, _ = canvas_class
    proc = symderiv(
        "grade",
        "--key",
        "softmax-2layer",
        "--no-symbolic",
        "--format",
        "canvas",
        "--roster",
        str(LMS / "canvas_gradebook_export.csv"),
        "--assignment",
        "HW 2 (98765)",
        str(archive),
    )
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == [*CANVAS_COLUMNS, "HW 2: Backpropagation (98765)"] and len(rows) == 2 + 2
    assert proc.returncode == 1 and "scan.pdf" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "canvas", "--roster", "MOODLE"], "needs the Canvas gradebook export"),
        (["--format", "moodle", "--roster", "CANVAS"], "needs --roster WORKSHEET.csv"),
        (["--format", "moodle"], "needs --roster WORKSHEET.csv"),
        (["--format", "canvas", "--roster", "CANVAS", "--assignment", "HW 3 (98766)"], "is not a column of"),
        (["--format", "canvas", "--roster", "CANVAS", "--points", "20"], "out of 5"),
    ],
    ids=["canvas-with-moodle-roster", "moodle-with-canvas-roster", "moodle-without-roster", "assignment", "points"],
)
def test_lms_format_and_roster_must_agree(canvas_class, args, message):
    archive, _ = canvas_class
    files = {"MOODLE": str(LMS / "moodle_grading_worksheet.csv"), "CANVAS": str(LMS / "canvas_gradebook_export.csv")}
    proc = symderiv("grade", "--key", "softmax-2layer", "--no-symbolic", *[files.get(a, a) for a in args], str(archive))
    assert proc.returncode == 2 and message in proc.stderr and proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ---- overrides, class view, feedback files, terminal ---------------------------------------


def test_overrides_apply_and_show(canvas_class, tmp_path):
    _, reports = canvas_class
    table = tmp_path / "overrides.csv"
    table.write_text(
        "file,part,verdict,points,comment\n"
        "okaforchidi_LATE_123457_7890124_hw2.md,dJt/dW2,correct,,2λW is on page 2\n"
        "123457,dJ/db1,0.5,,half credit: a sign slip\n",
        encoding="utf-8",
    )
    changed = apply_overrides(reports, load_overrides(table))
    bob = changed[1]
    by_q = {p.quantity: p for p in bob.parts}
    assert bob.score == 3.5 and by_q["dJt/dW2"].override["automatic"]["verdict"] == "incorrect"
    assert by_q["dJ/db1"].points == 0.5 and by_q["dJ/db1"].verdict == "incorrect"
    assert "overridden; was incorrect" in grade_table(bob) and "2λW is on page 2" in grade_table(bob)
    assert bob.to_dict()["parts"][1]["override"]["comment"] == "2λW is on page 2"
    assert class_view(changed, PROBLEM).overrides == 2


@pytest.mark.parametrize(
    "row, message",
    [
        ("nobody.md,dJ/dz3,correct,,", "no submission matches"),
        ("123457,dJ/dz9,correct,,", "has no part"),
        ("123457,dJ/dz3,great,,", "unknown verdict"),
        ("123457,dJ/dz3,,,", "give a verdict, points or a comment"),
        ("123457,dJ/dz3,,nan,", "finite number"),
        ("123457,dJ/dz3,,inf,", "finite number"),
        ("123457,dJ/dz3,,1e400,", "finite number"),
        ("123457,dJ/dz3,,1.5,", "whose maximum is 1"),
        ("123457,dJ/dz3,,-0.5,", "whose maximum is 1"),
        ("123458,dJ/dz3,correct,,", "was not graded"),
        ("123458,,,,a comment only", "give its points"),
        ("123457,,,9,", "whole submission, whose maximum is 5"),
        ("123457,,correct,,", "a verdict needs a part"),
        (",dJ/dz3,correct,,", "file column is empty"),
        ('"123457,,,,\x00",dJ/dz3,correct,,', "no submission matches"),
    ],
    ids=[
        "no-file",
        "no-part",
        "bad-verdict",
        "nothing",
        "nan",
        "inf",
        "overflow",
        "above-max",
        "negative",
        "part-of-unreadable",
        "comment-on-unreadable",
        "whole-above-max",
        "verdict-without-part",
        "no-file-column",
        "control-characters",
    ],
)
def test_bad_overrides_name_the_line(canvas_class, tmp_path, row, message):
    _, reports = canvas_class
    table = tmp_path / "o.csv"
    table.write_text("file,part,verdict,points,comment\n" + row + "\n")
    with pytest.raises(SymderivError, match=message) as info:
        apply_overrides(reports, load_overrides(table), source=str(table), total=5)
    assert ":2:" in str(info.value) and "\n" not in str(info.value)


def test_two_rows_for_one_part_name_both_lines(canvas_class, tmp_path):
    _, reports = canvas_class
    table = tmp_path / "o.csv"
    table.write_text(
        "file,part,verdict,points,comment\n123457,dJ/dz3,correct,,\nChidi Okafor,∂J/∂z⁽³⁾,,0.5,\n", encoding="utf-8"
    )
    with pytest.raises(SymderivError, match=r"o.csv:3: a second row for dJ/dz3 .* \(the first is line 2\)"):
        apply_overrides(reports, load_overrides(table), source=str(table), total=5)


@pytest.mark.parametrize(
    "row, student, check",
    [
        ("123457,dJ/dz3,,,see the note on page 2", 1, lambda r: r.score == 2 and r.parts[0].override["comment"]),
        ("\"Okafor, Chidi\",∂J̃/∂W⁽²⁾,correct,,", 1, lambda r: r.score == 3),
        ('"okafor,  CHIDI",dJt/dW2,,1,', 1, lambda r: r.score == 3),
        ("Chidi Okafor,dJt/dW2,,1,", 1, lambda r: r.score == 3),
        ("123456,dJ/dz2,,0.5,optional", 0, lambda r: r.score == 5 and r.parts[5].points == 0),
        ("123458,,,4,graded by hand from the scan", 2, lambda r: r.graded and r.by_hand and r.score == 4),
        ("123457,,,,well organised", 1, lambda r: r.score == 2 and not r.by_hand and r.override["comment"]),
        ("jsmith,dJ/dz3,incorrect,,", 0, lambda r: r.score == 4),
    ],
    ids=[
        "comment-only",
        "by-name-and-display-name",
        "name-any-case",
        "name-first-last",
        "optional-clamped",
        "unreadable",
        "whole-comment",
        "login",
    ],
)
def test_overrides_that_apply(canvas_class, tmp_path, row, student, check):
    _, reports = canvas_class
    table = tmp_path / "o.csv"
    table.write_text("file,part,verdict,points,comment\n" + row + "\n", encoding="utf-8")
    changed = apply_overrides(reports, load_overrides(table), source=str(table), total=5)
    assert check(changed[student]), changed[student]
    assert json.loads(json.dumps(changed[student].to_dict(), allow_nan=False))


def test_a_students_feedback_shows_the_ta_comment_not_the_checker(canvas_class, tmp_path):
    _, reports = canvas_class
    table = tmp_path / "o.csv"
    table.write_text("file,part,verdict,points,comment\n123457,dJt/dW2,correct,,2λW is on page 2\n", encoding="utf-8")
    (bob,) = [r for r in apply_overrides(reports, load_overrides(table)) if r.student.id == "123457"]
    checker = feedback_unicode(next(p for p in reports[1].parts if p.quantity == "dJt/dW2").feedback)
    text = feedback_text(bob)
    assert "Your TA: 2λW is on page 2" in text and checker not in text
    assert checker in grade_table(bob)  # the staff still see what the checker said


@pytest.mark.parametrize(
    "row, graded",
    [
        ("123457,dJt/dW2,correct,,2λW is on page 2", True),
        ("123457,dJt/dW2,,1,2λW is on page 2", True),
        ("123457,dJt/dW2,,,2λW is on page 2", False),
    ],
    ids=["verdict", "points", "comment-only"],
)
def test_a_comment_only_override_keeps_the_checkers_message(canvas_class, tmp_path, row, graded):
    """A TA who sets a part's grade replaces the checker's message; a TA who only comments adds to
    it (the grade, the message and the wrong step stand): in every output a student gets."""
    _, reports = canvas_class
    table = tmp_path / "o.csv"
    table.write_text("file,part,verdict,points,comment\n" + row + "\n", encoding="utf-8")
    (bob,) = [r for r in apply_overrides(reports, load_overrides(table)) if r.student.id == "123457"]
    part = next(p for p in bob.parts if p.quantity == "dJt/dW2")
    checker = feedback_unicode(part.override["automatic"]["feedback"])
    was = part.override["automatic"]
    assert part.ta_graded is graded and ((part.verdict, part.points) == (was["verdict"], was["points"])) is not graded
    markdown = feedback_markdown(bob, PROBLEM)
    page = submission_page(bob, PROBLEM, back=None, audience="student")
    for text in (feedback_text(bob), markdown, page):
        assert "2λW is on page 2" in text
    for text in (markdown, page):
        assert ("set by your TA" in text) is graded
    assert (checker in feedback_text(bob)) is not graded
    assert ("the regularisation term should be 2λW⁽²⁾, not λW⁽²⁾" in markdown) is not graded
    assert ("line 7: ∂J̃/∂W⁽²⁾" in markdown.split("## Steps that do not hold")[-1]) is not graded
    assert (class_view([bob], PROBLEM).overrides == 1) is graded


def test_the_late_policy(canvas_class):
    _, reports = canvas_class
    late = apply_late_penalty(reports, 0.1)
    assert [r.score for r in late[:2]] == [5.0, pytest.approx(1.8)]  # Chidi's file name says LATE
    assert late[1].to_dict()["late_penalty"] == 0.1 and "10% taken off" in feedback_text(late[1])
    assert apply_late_penalty(reports, 0.0) == reports


def test_class_view_counts_mistakes_and_leaves_out_unreadable(canvas_class):
    _, reports = canvas_class
    view = class_view(reports, PROBLEM)
    assert (view.submissions, view.graded, view.mean) == (3, 2, 3.5)
    assert [f for f, _ in view.unreadable] == [reports[2].file]
    w2 = next(p for p in view.parts if p.quantity == "dJt/dW2")
    assert dict(w2.counts)["correct"] == 1 and dict(w2.counts)["incorrect"] == 1
    assert w2.mistakes[0][0] == "regularisation-coefficient" and w2.mistakes[0][2] == 1
    b1 = next(p for p in view.parts if p.quantity == "dJ/db1")
    assert b1.mistakes[0][:1] == ("sign",)
    summary = class_summary(view)
    assert "λW instead of 2λW (1)" in summary and "not counted" in summary and "scan.pdf" in summary
    data = json.loads(json.dumps(view.to_dict()))
    assert data["graded"] == 2 and data["parts"][0]["counts"]["correct"] == 2


def test_flags_for_review():
    def part(q, verdict, numeric, symbolic):
        return Part(
            q, verdict, "x", 3, "f", 0.0, 1.0, check={"numeric": {"status": numeric}, "symbolic": {"status": symbolic}}
        )

    report = Report(
        "a.md",
        "softmax-2layer",
        0,
        5,
        parts=(
            part("dJ/dz3", "incorrect", "different", "equal"),
            part("dJt/dW2", "correct", "equal", "timeout"),
            Part("dJt/dW1", "unparseable", "\\frac{", 4, "cannot be read", 0, 1),
            part("dJ/db1", "correct", "equal", "equal"),
        ),
    )
    reasons = {f.quantity: f.reason for f in class_view([report], PROBLEM).flagged}
    assert reasons == {
        "dJ/dz3": "the numeric and symbolic checks disagree",
        "dJt/dW2": "the symbolic check could not decide",
        "dJt/dW1": "unparseable",
    }


def test_feedback_files_per_student(canvas_class, tmp_path):
    archive, reports = canvas_class
    written = write_feedback(reports, PROBLEM, tmp_path / "fb")
    names = sorted(p.name for p in written.files)
    assert names == sorted(
        [
            "Smith_Jane-123456.md",
            "Smith_Jane-123456.html",
            "Okafor_Chidi-123457.md",
            "Okafor_Chidi-123457.html",
            "Nguyen_Bao-123458.md",
            "Nguyen_Bao-123458.html",
        ]
    )
    md = (tmp_path / "fb" / "Okafor_Chidi-123457.md").read_text(encoding="utf-8")
    assert "Okafor, Chidi" in md and "| ∂J̃/∂W⁽²⁾ | ✗ incorrect | 0/1 |" in md and "ψ(Z⁽³⁾)" in md
    assert not re.search(r"\\(frac|lambda|left|right|tilde)\b", md)  # formulas rendered, never LaTeX source
    html = (tmp_path / "fb" / "Okafor_Chidi-123457.html").read_text(encoding="utf-8")
    assert "class overview" not in html and "<math" in html
    not_graded = feedback_markdown(reports[2], PROBLEM)
    assert "could not be graded" in not_graded and "scan.pdf" in not_graded
    for text in (md, html, not_graded):  # what a student sees: no LMS id, problem id, path or internal part id
        for internal in ("123457", "123458", "softmax-2layer", str(archive), "dJt/dW2", "dJ/dz3", "_LATE_"):
            assert internal not in text, internal
    (canvas_zip,) = written.zips
    with zipfile.ZipFile(canvas_zip) as z:
        assert sorted(z.namelist()) == sorted(
            [
                "smithjane_123456_7890123_feedback.html",
                "okaforchidi_LATE_123457_7890124_feedback.html",
                "nguyenbao_123458_7890125_feedback.html",
            ]
        )


@pytest.mark.parametrize(
    "claim, feedback",
    [
        ("<script>alert(1)</script>", "fine"),
        ("x", "[click](javascript:alert(1)) <img src=x onerror=alert(1)>"),
        ("a | b", "cell | break\nnew line"),
        ("`code`", "**bold** _it_"),
    ],
    ids=["script-claim", "link-and-img", "pipes", "markdown"],
)
def test_markdown_feedback_escapes_student_text(claim, feedback):
    part = Part("dJ/dz3", "incorrect", claim, 3, feedback, 0.0, 1.0, name="∂J/∂z⁽³⁾")
    report = Report("x.md", "softmax-2layer", 0.0, 1.0, parts=(part,))
    md = feedback_markdown(report, PROBLEM)
    table = [line for line in md.splitlines() if line.startswith("| ∂J")]
    assert len(table) == 1 and table[0].count(" | ") == 4  # no cell boundary added
    outside_code = re.sub(r"(`+) .*? \1|(`+)[^`]*?\2", "", md)  # a code span shows its text, never runs it
    for active in (r"<script", r"<img", r"(?<!\\)\]\(", r"(?<!\\)\*\*bold"):
        assert not re.search(active, outside_code), active


def test_terminal_table_is_tidy(canvas_class):
    _, reports = canvas_class
    alice, bob = grade_table(reports[0]), grade_table(reports[1])
    assert "first wrong" not in alice.lower() and ".," not in bob and "point(s)" not in bob
    assert "Smith, Jane (123456)" in alice and "(late)" in bob
    for line in bob.splitlines():
        assert line.count("line 7") <= 1
    assert "optional (checked, not scored):" in alice
    scored_block = alice.split("optional")[0]
    assert "dJ/dz2" not in scored_block


def test_terminal_grade_prints_a_class_summary():
    proc = symderiv("grade", "--key", "softmax-2layer", "--no-symbolic", str(ALICE), str(BOB))
    assert proc.returncode == 0
    assert "Class: 2 submissions, 2 graded, mean 3.5/5" in proc.stdout
    assert "\\frac" not in proc.stdout and "\\left" not in proc.stdout


def test_summary_json_and_json_array(tmp_path):
    summary = tmp_path / "class.json"
    proc = symderiv(
        "grade",
        "--key",
        "softmax-2layer",
        "--no-symbolic",
        "--json",
        "--summary-json",
        str(summary),
        str(ALICE),
        str(BOB),
    )
    out = json.loads(proc.stdout)
    assert isinstance(out, list) and len(out) == 2 and {"file", "problem", "score", "max_score", "parts"} <= set(out[0])
    view = json.loads(summary.read_text(encoding="utf-8"))
    assert {"parts", "flagged", "unreadable", "mean"} <= set(view) and view["graded"] == 2
