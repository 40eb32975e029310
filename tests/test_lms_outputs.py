"""What goes back into a course's tools: Canvas and Moodle CSVs, Gradescope and PrairieLearn results,
feedback files, overrides, the class view and the terminal view."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from symderiv.grading.grade import grade_submission
from symderiv.grading.overrides import apply_overrides, load_overrides
from symderiv.grading.results import GradeConfig, Part, Report
from symderiv.output.classview import class_view
from symderiv.output.feedback import feedback_markdown, write_feedback
from symderiv.output.lms import CANVAS_COLUMNS, MOODLE_COLUMNS, canvas_csv, moodle_csv
from symderiv.output.platforms import GRADESCOPE_VISIBILITY, pick_submission
from symderiv.output.terminal import class_summary, grade_table
from symderiv.reading.collect import collect
from symderiv.reading.identity import load_roster
from symderiv.truth.problem import load_problem

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


def test_canvas_csv_has_the_gradebook_columns_of_its_export(canvas_class):
    _, reports = canvas_class
    text = canvas_csv(reports, "HW 2: Backpropagation (98765)", 5)
    rows = list(csv.reader(io.StringIO(text)))
    export = list(csv.reader((LMS / "canvas_gradebook_export.csv").open(encoding="utf-8")))
    assert tuple(rows[0][:5]) == CANVAS_COLUMNS == tuple(export[0][:5])
    assert rows[0][5] == export[0][5]  # the assignment column, named as exported
    assert rows[1][0] == "Points Possible" and rows[1][5] == "5"
    by_id = {r[1]: r for r in rows[2:]}
    assert by_id["123456"] == ["Smith, Jane", "123456", "S0012", "jsmith", "CS 4780 Section 1", "5"]
    assert by_id["123457"][5] == "2"
    assert by_id["123458"][5] == ""  # not graded: left unchanged in Canvas
    exported_ids = {r[1] for r in export[2:]}
    assert set(by_id) <= exported_ids  # every row matches a student of the export


def test_moodle_csv_is_the_grading_worksheet(tmp_path):
    folder = tmp_path / "moodle"
    for name, src in (
        ("Jane Smith_4101_assignsubmission_file_", ALICE),
        ("Chidi Okafor_4102_assignsubmission_file_", BOB),
    ):
        (folder / name).mkdir(parents=True)
        (folder / name / "hw2.md").write_bytes(src.read_bytes())
    roster = load_roster(LMS / "moodle_grading_worksheet.csv")
    reports = [grade_submission(s, PROBLEM, FAST) for s in collect([str(folder)], tmp_path / "w", roster)]
    rows = list(csv.DictReader(io.StringIO(moodle_csv(reports, 5))))
    worksheet = list(csv.DictReader((LMS / "moodle_grading_worksheet.csv").open(encoding="utf-8")))
    assert set(MOODLE_COLUMNS) <= set(worksheet[0])  # every column we write is one Moodle exports
    assert [r["Identifier"] for r in rows] == [w["Identifier"] for w in reversed(worksheet)]
    bob = next(r for r in rows if r["Identifier"] == "Participant 4102")
    assert bob["Grade"] == "2" and bob["Maximum Grade"] == "5" and bob["Email address"] == "chidi.okafor@example.edu"
    assert "2λW" in bob["Feedback comments"] and "\\" not in bob["Feedback comments"]


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
    assert rows[0] == [*CANVAS_COLUMNS, "HW 2 (98765)"] and len(rows) == 2 + 3
    assert proc.returncode == 1 and "scan.pdf" in proc.stderr and "Traceback" not in proc.stderr


# ---- Gradescope and PrairieLearn ----------------------------------------------------------

GRADESCOPE_TEST_KEYS = {"name", "score", "max_score", "output", "visibility"}


@pytest.mark.parametrize("visibility", ["visible", "after_due_date"])
def test_gradescope_results_json(tmp_path, visibility):
    sub = tmp_path / "autograder" / "submission"
    sub.mkdir(parents=True)
    (sub / "hw2.md").write_bytes(BOB.read_bytes())
    (sub / "notes.pdf").write_bytes(b"%PDF")
    results = tmp_path / "autograder" / "results" / "results.json"
    proc = symderiv(
        "gradescope",
        "--key",
        "softmax-2layer",
        "--no-symbolic",
        "--submission",
        str(sub),
        "--results",
        str(results),
        "--visibility",
        visibility,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["score"] == 2.0 and isinstance(data["output"], str) and "notes.pdf" in data["output"]
    assert len(data["tests"]) >= 5
    for t in data["tests"]:
        assert GRADESCOPE_TEST_KEYS <= set(t) and t["visibility"] == visibility in GRADESCOPE_VISIBILITY
        assert 0 <= t["score"] <= max(t["max_score"], 0) or t["max_score"] == 0
        assert "\\frac" not in t["output"]
    scored = [t for t in data["tests"] if t["max_score"]]
    assert sum(t["score"] for t in scored) == data["score"] and sum(t["max_score"] for t in scored) == 5
    w2 = next(t for t in data["tests"] if t["name"] == "dJt/dW2")
    assert w2["score"] == 0 and "2λW" in w2["output"] and "line 7" in w2["output"]


def test_gradescope_with_nothing_to_grade_still_writes_results(tmp_path):
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "scan.pdf").write_bytes(b"%PDF")
    results = tmp_path / "results.json"
    assert (
        symderiv(
            "gradescope", "--key", "softmax-2layer", "--submission", str(sub), "--results", str(results)
        ).returncode
        == 0
    )
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["tests"] == [] and "scan.pdf" in data["output"]


def test_prairielearn_results_json(tmp_path):
    sub = tmp_path / "grade" / "student"
    sub.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(BOB.read_text(encoding="utf-8"))]
    (sub / "hw2.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
    results = tmp_path / "grade" / "results" / "results.json"
    proc = symderiv(
        "prairielearn", "--key", "softmax-2layer", "--no-symbolic", "--submission", str(sub), "--results", str(results)
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(results.read_text(encoding="utf-8"))
    assert data["gradable"] is True and data["score"] == pytest.approx(0.4) and 0 <= data["score"] <= 1
    assert isinstance(data["message"], str) and data["message"]
    for t in data["tests"]:
        assert {"name", "points", "max_points", "message"} <= set(t)
    w2 = next(t for t in data["tests"] if t["name"] == "dJt/dW2")
    assert w2["points"] == 0 and w2["max_points"] == 1 and "cell 1, line 7" in w2["message"]


def test_prairielearn_unreadable_is_not_gradable(tmp_path):
    sub = tmp_path / "student"
    sub.mkdir()
    (sub / "hw.md").write_bytes(b"")
    results = tmp_path / "results.json"
    symderiv("prairielearn", "--key", "softmax-2layer", "--submission", str(sub), "--results", str(results))
    data = json.loads(results.read_text())
    assert data["gradable"] is False and "empty" in data["message"] and str(tmp_path) not in data["message"]


@pytest.mark.parametrize(
    "files, chosen",
    [
        (["a.txt", "b.md", "c.ipynb"], "c.ipynb"),
        (["z.md", "a.md"], "a.md"),
        (["x.pdf"], None),
        (["sub/hw.tex", ".hidden.md"], "hw.tex"),
    ],
    ids=["notebook-first", "by-name", "none", "nested"],
)
def test_pick_submission(tmp_path, files, chosen):
    for f in files:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("x")
    got, _ = pick_submission(tmp_path)
    assert (got.name if got else None) == chosen


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
        ("nobody.md,dJ/dz3,correct,,", "no graded submission matches"),
        ("123457,dJ/dz9,correct,,", "has no part"),
        ("123457,dJ/dz3,great,,", "unknown verdict"),
        ("123457,dJ/dz3,,,", "give a verdict or points"),
    ],
    ids=["no-file", "no-part", "bad-verdict", "nothing"],
)
def test_bad_overrides_name_the_line(canvas_class, tmp_path, row, message):
    _, reports = canvas_class
    table = tmp_path / "o.csv"
    table.write_text("file,part,verdict,points,comment\n" + row + "\n")
    with pytest.raises(Exception, match=message) as info:
        apply_overrides(reports, load_overrides(table), source=str(table))
    assert ":2:" in str(info.value)


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
    _, reports = canvas_class
    written = write_feedback(reports, PROBLEM, tmp_path / "fb")
    names = sorted(p.name for p in written)
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
    assert "Okafor, Chidi (123457)" in md and "2λW" in md and "\\frac" not in md and "ψ(Z⁽³⁾)" in md
    html = (tmp_path / "fb" / "Okafor_Chidi-123457.html").read_text(encoding="utf-8")
    assert "class overview" not in html and "<math" in html
    assert "could not be graded" in feedback_markdown(reports[2], PROBLEM)


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
