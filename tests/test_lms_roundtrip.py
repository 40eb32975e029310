"""End to end (issue 23): a realistic class packaged exactly as Canvas's and Moodle's bulk downloads
are (tests/lms_class.py) goes through `symderiv grade`, and the files it writes are imported by
validators written from the platforms' own import code (tests/lms_validators.py): every student
gets the grade their derivation earns, no row is dropped or doubled, the feedback zips attach to
the right students, and nothing a student sees carries an internal detail."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lms_class import ASSIGNMENT, POINTS, build, students
from lms_validators import canvas_import, html_tags, moodle_upload

from symderiv.grading.grade import grade_file
from symderiv.grading.results import GradeConfig
from symderiv.truth.problem import load_problem

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = load_problem("softmax-2layer")
CONFIG = GradeConfig(symbolic=False, total=POINTS)
CLASS = students()
OVERRIDES = "file,part,verdict,points,comment\nRaj Patel,,,15,graded by hand from the scan\n"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "symderiv.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def expected(archive: Path, member_of, tmp: Path) -> dict[str, float | None]:
    """Each student's grade, from the file holding the derivation graded alone (out of 20)."""
    out = {}
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        for s in CLASS:
            if s.derivation is None:
                out[s.key] = None
                continue
            (name,) = [n for n in names if member_of(s, n)]
            copy = tmp / f"{s.key}{Path(name).suffix}"
            copy.write_bytes(z.read(name))
            out[s.key] = grade_file(copy, PROBLEM, CONFIG).score
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    files = build(root)
    (root / "overrides.csv").write_text(OVERRIDES, encoding="utf-8")
    common = ["grade", "--key", "softmax-2layer", "--no-symbolic", "--jobs", "2", "--overrides", "overrides.csv"]
    canvas = cli(
        *common,
        "canvas/submissions.zip",
        "--roster",
        "canvas/gradebook.csv",
        "--format",
        "canvas",
        "--assignment",
        ASSIGNMENT,
        "--late-penalty",
        "0.1",
        "--feedback",
        "canvas-fb",
        cwd=root,
    )
    moodle = cli(
        *common,
        "moodle/submissions.zip",
        "--roster",
        "moodle/worksheet.csv",
        "--format",
        "moodle",
        "--late-penalty",
        "0.1",
        "--feedback",
        "moodle-fb",
        cwd=root,
    )
    return root, files, canvas, moodle


def canvas_member(s, name: str) -> bool:
    base = f"{s.canvas_prefix()}_{'LATE_' if s.late else ''}{s.canvas_id}_"
    return name.startswith(base) and (name.endswith(f"_{s.derivation}") or name == f"{base}{s.derivation}")


def moodle_member(s, name: str) -> bool:
    own = "onlinetext.html" if s.text_entry else s.derivation
    return name.startswith(f"{s.full}_{s.moodle_id}_assignsubmission_") and name.endswith(f"/{own}")


def test_canvas_imports_as_is_with_every_students_grade(course, tmp_path):
    root, files, canvas, _ = course
    assert "Traceback" not in canvas.stderr
    grades = canvas_import(canvas.stdout, files["canvas_export"].read_text(encoding="utf-8-sig"))
    want = expected(files["canvas_zip"], canvas_member, tmp_path)
    for s in CLASS:
        if not s.in_roster:
            assert s.canvas_id not in grades
            assert re.search(rf"unmatched: .*{s.canvas_id}.*not in canvas/gradebook.csv", canvas.stderr)
        elif s.key == "raj":
            assert grades[s.canvas_id] == "15"  # unreadable, graded by hand through --overrides
        elif want[s.key] is None:
            assert s.canvas_id not in grades  # not graded: no row, so no grade is erased
        else:
            penalty = 0.9 if s.late else 1.0
            assert float(grades[s.canvas_id]) == pytest.approx(round(want[s.key] * penalty, 2)), s.key
    assert grades["123457"] == "7.2"  # Chidi: 8 of 20, late, 10% off
    assert canvas.returncode == 1  # one student not graded, one not in the roster: said on stderr


def test_moodle_uploads_as_is_with_every_students_grade(course, tmp_path):
    root, files, _, moodle = course
    assert "Traceback" not in moodle.stderr
    updates = moodle_upload(moodle.stdout, files["moodle_worksheet"].read_text(encoding="utf-8"))
    want = expected(files["moodle_zip"], moodle_member, tmp_path)
    for s in CLASS:
        if not s.in_roster:
            assert s.moodle_id not in updates and f"({s.moodle_id})" in moodle.stderr
        elif s.key == "raj":
            assert updates[s.moodle_id][0] == "15"
        elif want[s.key] is None:
            assert s.moodle_id not in updates
        else:
            grade, comment = updates[s.moodle_id]
            penalty = 0.9 if s.late else 1.0  # Moodle says late in the worksheet's Status
            assert float(grade) == pytest.approx(round(want[s.key] * penalty, 2)), s.key
            tags, text = html_tags(comment)
            assert [t for t, _ in tags][:2] == ["p", "ul"] and text.startswith(f"Score {grade}/20")
    assert moodle.returncode == 1


def test_the_feedback_zips_attach_to_the_right_students(course):
    root, files, _, _ = course
    with zipfile.ZipFile(files["canvas_zip"]) as z:
        attachments = {}
        for name in z.namelist():
            numbers = [p for p in name.split("_") if p.isdigit()][:2]
            if len(numbers) == 2:
                attachments.setdefault(numbers[0], set()).add(numbers[1])
    with zipfile.ZipFile(root / "canvas-fb" / "canvas-feedback.zip") as z:
        got = set()
        for name in z.namelist():  # Canvas: the first two all-digit pieces are the user and one of their files
            user, attachment = [p for p in name.split("_") if re.fullmatch(r"\d+", p)][:2]
            assert attachment in attachments[user], name
            got.add(user)
            page = z.read(name).decode("utf-8")
            assert "<math" in page or "could not be graded" in page or "Your TA: graded by hand" in page
    assert got == {s.canvas_id for s in CLASS if not s.text_entry}
    participants = {s.moodle_id for s in CLASS}
    with zipfile.ZipFile(root / "moodle-fb" / "moodle-feedback.zip") as z:
        ids = set()
        for name in z.namelist():  # Moodle: a path part fullname_participant_plugintype_pluginname[_...]
            part = next(p for p in name.split("/") if len(p.split("_", 4)) >= 4)
            _, pid, plugintype, plugin, *_ = part.split("_", 4)
            assert (plugintype, plugin) == ("assignsubmission", "file") and pid in participants
            ids.add(pid)
    assert ids == participants


INTERNAL = [
    re.compile(r"\bd[JL]t?/d\w+\b"),  # quantity ids
    re.compile(r"softmax-2layer"),
    re.compile(r"\b1234\d\d\b|\b41\d\d\b"),  # LMS user ids
    re.compile(r"submissions\.zip|assignsubmission|_LATE_|/tmp/"),
    re.compile(r"\\(frac|partial|psi|Delta|text|mathbf)\b"),  # raw LaTeX
    re.compile(r"\bif if\b|\.\."),
]


@pytest.mark.parametrize("platform", ["canvas", "moodle"])
def test_nothing_a_student_sees_carries_an_internal_detail(course, platform):
    root = course[0]
    pages = sorted((root / f"{platform}-fb").glob("*.html")) + sorted((root / f"{platform}-fb").glob("*.md"))
    assert len(pages) >= 2 * 13
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if page.suffix == ".html":
            tags, text = html_tags(text)
            assert not {t for t, _ in tags} & {"script", "iframe", "object", "embed", "img", "form"}, page.name
            assert all(a.get("href", "#").startswith("#") for t, a in tags if t == "a"), page.name  # in-page links only
            text = re.sub(r"\s+", " ", text)
        for pattern in INTERNAL:
            assert not pattern.search(text), (page.name, pattern.pattern, pattern.search(text))


def test_a_roster_csv_with_every_column_still_reads(course):
    root, files, _, _ = course
    rows = list(csv.reader(io.StringIO(files["canvas_export"].read_text(encoding="utf-8-sig"))))
    assert rows[0][5] == ASSIGNMENT and rows[1][0].strip() == "Points Possible"
