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
from hypothesis import given, settings
from hypothesis import strategies as st
from lms_class import ASSIGNMENT, POINTS, build, students
from lms_validators import (
    Refused,
    canvas_feedback_upload,
    canvas_import,
    html_tags,
    moodle_feedback_upload,
    moodle_upload,
)

from symderiv.answerkey.problem import load_problem
from symderiv.grading.grade import grade_file
from symderiv.grading.results import GradeConfig
from symderiv.output.feedback import _canvas_member, _moodle_member
from symderiv.reading.identity import Student

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
            assert s.canvas_id not in grades  # not graded, or nothing handed in: no row, so no grade is erased
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
            assert s.moodle_id not in updates  # Priya's 18.00, entered by hand, stays as it was
        else:
            grade, comment = updates[s.moodle_id]
            penalty = 0.9 if s.late else 1.0  # Moodle says late in the worksheet's Status
            assert float(grade) == pytest.approx(round(want[s.key] * penalty, 2)), s.key
            tags, text = html_tags(comment)
            assert [t for t, _ in tags][:2] == ["p", "ul"] and text.startswith(f"Score {grade}/20")
    assert moodle.returncode == 1


def test_the_feedback_zips_attach_to_the_right_students(course):
    root, files, canvas, _ = course
    (bao,) = [s for s in CLASS if s.text_entry]  # Canvas has no file of hers to attach a comment to
    (note,) = [line for line in canvas.stderr.splitlines() if "paste by hand" in line]
    assert (
        bao.sortable.split(",")[0] in note
        and (root / "canvas-fb" / note.split("paste by hand: ")[1].split(" (")[0]).is_file()
    )
    with zipfile.ZipFile(root / "canvas-fb" / "canvas-feedback.zip") as fb, zipfile.ZipFile(files["canvas_zip"]) as z:
        attached = canvas_feedback_upload(fb, z)
        for names in attached.values():
            assert len(names) == 1
            page = fb.read(names[0]).decode("utf-8")
            assert "<math" in page or "could not be graded" in page or "Your TA: graded by hand" in page
    assert set(attached) == {s.canvas_id for s in CLASS if s.files and not s.text_entry}
    participants = {s.moodle_id for s in CLASS if s.in_roster}
    with zipfile.ZipFile(root / "moodle-fb" / "moodle-feedback.zip") as fb:
        stored = moodle_feedback_upload(fb, participants | {"4190"})  # John Doe is in Moodle, not the worksheet
    assert set(stored) == {s.moodle_id for s in CLASS if s.files}
    assert all(names == ["feedback.html"] for names in stored.values())


def _zip(*names: str) -> zipfile.ZipFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in names:
            z.writestr(name, b"x")
    return zipfile.ZipFile(buf)


SUBMITTED = _zip("smithjane_123456_7890123_hw2.md", "okaforchidi_LATE_123457_7890124_hw2.md")


@pytest.mark.parametrize(
    "name, refused",
    [
        ("smithjane_123456_7890123_feedback.html", None),
        ("okaforchidi_LATE_123457_7890124_feedback.html", None),
        ("fb/smithjane_123456_7890123_feedback.html", None),
        ("smithjane_123456_7890124_feedback.html", "not a file user 123456 submitted"),
        ("smithjane_123456_feedback.html", "no user and attachment"),
        ("._smithjane_123456_7890123_feedback.html", "no user and attachment"),
        ("smithjane_123456_7890123_link.html", "no user and attachment"),
    ],
    ids=["plain", "late", "in-a-folder", "someone-elses-file", "no-attachment", "resource-fork", "link"],
)
def test_the_canvas_feedback_validator_follows_canvas(name, refused):
    if refused:
        with pytest.raises(Refused, match=refused):
            canvas_feedback_upload(_zip(name), SUBMITTED)
    else:
        assert list(canvas_feedback_upload(_zip(name), SUBMITTED)) == [name.rsplit("_", 3)[-3]]


@pytest.mark.parametrize(
    "name, stored, refused",
    [
        ("Jane Smith_4101_assignsubmission_file_/feedback.html", "feedback.html", None),
        ("Jane Smith_4101_assignsubmission_file/feedback.html", "feedback.html", None),
        ("Jane Smith_4101_assignsubmission_file_feedback.html", "feedback.html", None),
        ("top/Jane Smith_4101_assignsubmission_file_/a/feedback.html", "a/feedback.html", None),
        ("Jane Smith_4199_assignsubmission_file_/feedback.html", None, "not a participant"),
        ("Jane Smith_4101_assignsubmission_pdf_/feedback.html", None, "no fullname_participant"),
        ("Jane_Smith_4101_assignsubmission_file_/feedback.html", None, "no fullname_participant"),
        ("Jane Smith_4101_assignsubmission_file_/.feedback.html", None, "hidden"),
    ],
    ids=["folder", "folder-4.1", "flat", "nested", "not-participant", "no-such-plugin", "underscore-in-name", "hidden"],
)
def test_the_moodle_feedback_validator_follows_moodle(name, stored, refused):
    if refused:
        with pytest.raises(Refused, match=refused):
            moodle_feedback_upload(_zip(name), {"4101"})
    else:
        assert moodle_feedback_upload(_zip(name), {"4101"}) == {"4101": [stored]}


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=0, max_size=40),
    user=st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True),
    attachment=st.from_regex(r"[1-9][0-9]{0,9}", fullmatch=True),
    late=st.booleans(),
)
def test_any_students_feedback_file_attaches_to_them(name, user, attachment, late):
    """Whatever the student's name (digits, underscores, slashes, any script), the feedback file
    names attach to that student in Canvas and in Moodle, by the platforms' own rules."""
    canvas = Student(name=name, id=user, attachment=attachment, late=late, source="canvas")
    submitted = _zip(f"x_{'LATE_' if late else ''}{user}_{attachment}_hw2.md")
    member = _canvas_member(canvas)
    assert canvas_feedback_upload(_zip(member), submitted) == {user: [member]}
    moodle = Student(name=name, id=user, source="moodle")
    assert moodle_feedback_upload(_zip(_moodle_member(moodle)), {user}) == {user: ["feedback.html"]}


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


def test_a_student_who_handed_in_nothing_keeps_the_grade_entered_by_hand(course):
    """Priya is in both gradebooks with 18 entered by hand and has no file in either download."""
    root, files, canvas, moodle = course
    (priya,) = [s for s in CLASS if s.key == "priya"]
    assert priya.canvas_id not in {row[1] for row in csv.reader(io.StringIO(canvas.stdout))}
    before = {r[0]: r for r in csv.reader(io.StringIO(files["moodle_worksheet"].read_text(encoding="utf-8")))}
    after = {r[0]: r for r in csv.reader(io.StringIO(moodle.stdout))}
    assert after[f"Participant {priya.moodle_id}"] == before[f"Participant {priya.moodle_id}"]
    assert before[f"Participant {priya.moodle_id}"][4] == "18.00"
    assert "Nair" not in canvas.stderr + moodle.stderr  # nothing handed in is not an error of the batch


def test_a_roster_csv_with_every_column_still_reads(course):
    root, files, _, _ = course
    rows = list(csv.reader(io.StringIO(files["canvas_export"].read_text(encoding="utf-8-sig"))))
    assert rows[0][5] == ASSIGNMENT and rows[1][0].strip() == "Points Possible"
