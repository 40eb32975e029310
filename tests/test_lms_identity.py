"""Who handed what in (issue 22 item 1, issue 23 items 1-2): identities from the LMSs' own names,
exact roster matches, one student one submission, online-text entries read as text."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.core.errors import SubmissionError
from symderiv.grading.grade import grade_submission
from symderiv.grading.results import GradeConfig
from symderiv.reading.collect import Submission, by_student, collect
from symderiv.reading.identity import identify, resubmission
from symderiv.reading.roster import load_roster
from symderiv.reading.submission import read_source
from symderiv.reading.webtext import html_text

ROOT = Path(__file__).resolve().parents[1]
LMS = ROOT / "tests" / "fixtures" / "lms"
ALICE, BOB = ROOT / "examples" / "softmax-alice.md", ROOT / "examples" / "softmax-bob.md"
FAST = GradeConfig(symbolic=False)


# ---- file names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, expected",
    [
        ("müllerjürgen_123458_7890104_Ableitung Übung 2.ipynb", ("canvas", "123458", "Ableitung Übung 2.ipynb")),
        ("李华_123463_7890110_推导.md", ("canvas", "123463", "推导.md")),
        ("nguyễnbảo_123459_text.html", ("canvas", "123459", "text.html")),
        ("smithjane_123456_link.html", ("canvas", "123456", "link.html")),
        ("ødegårdzoë_LATE_123462_55_hw2-1.md", ("canvas", "123462", "hw2-1.md")),
        ("o_brien_123464_55_x.md", ("canvas", "123464", "x.md")),
        ("kimmin_123465_7890112_notes_123456_999_hw2.md", ("canvas", "123465", "notes_123456_999_hw2.md")),
        (
            "smithjane_123456_77_x_999_assignsubmission_file_y.md",
            ("canvas", "123456", "x_999_assignsubmission_file_y.md"),
        ),
        (
            "Jane Smith_4101_assignsubmission_file_/x_999_assignsubmission_file_y.md",
            ("moodle", "4101", "x_999_assignsubmission_file_y.md"),
        ),
        (
            "Jane Smith_4101_assignsubmission_file_/Bob_4102_assignsubmission_file_/hw.md",
            ("moodle", "4101", "Bob_4102_assignsubmission_file_/hw.md"),
        ),
        (
            "Jane Smith_4101_assignsubmission_file_/smithjane_123456_7_hw.md",
            ("moodle", "4101", "smithjane_123456_7_hw.md"),
        ),
        ("Bảo Nguyễn_4104_assignsubmission_onlinetext_/onlinetext.html", ("moodle", "4104", "onlinetext.html")),
        ("Bảo Nguyễn_4104_assignsubmission_onlinetext_onlinetext.html", ("moodle", "4104", "onlinetext.html")),
        ("dl/Jane Smith_4101_assignsubmission_file/sub/hw2.md", ("moodle", "4101", "sub/hw2.md")),
        (unicodedata.normalize("NFD", "müllerjürgen_123458_1_x.md"), ("canvas", "123458", "x.md")),
    ],
    ids=[
        "canvas-unicode",
        "canvas-cjk",
        "canvas-text-entry",
        "canvas-url",
        "canvas-late-resubmitted",
        "canvas-underscore-in-name",
        "canvas-own-name-imitates-canvas",
        "canvas-own-name-imitates-moodle",
        "moodle-own-name-imitates-moodle",
        "moodle-subfolder-imitates-moodle",
        "moodle-own-name-imitates-canvas",
        "moodle-text-entry",
        "moodle-text-entry-flat",
        "moodle-4.1-folder",
        "macos-decomposed",
    ],
)
def test_the_lms_part_of_a_name_decides(path, expected):
    s = identify(path)
    assert (s.source, s.id, s.file) == expected


@pytest.mark.parametrize(
    "path",
    ["hw2.md", "123456_hw.md", "smithjane_hw2.md", "hw2_cokafor.md", "Jane Smith_hw2.md", "anon_abc12_55_hw.md"],
    ids=["plain", "leading-number", "no-id", "login-inside", "moodle-without-id", "canvas-anonymous"],
)
def test_no_lms_name_no_identity(path):
    assert identify(path) is None


# what a student may call a file: any characters but a path separator ("." and ".." name no file)
OWN_NAMES = st.text(
    st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="/\\"), min_size=1, max_size=30
).filter(lambda own: own not in (".", ".."))


@settings(max_examples=150, deadline=None)
@given(
    name=st.text(st.characters(categories=["Ll", "Lo", "Nd"]), min_size=1, max_size=12).filter(
        lambda n: not n[-1].isdigit() and not re.search(r"\d", n)
    ),
    user=st.integers(1, 10**9),
    own=OWN_NAMES,
    late=st.booleans(),
)
def test_any_student_file_name_keeps_the_canvas_identity(name, user, own, late):
    s = identify(f"{name}_{'LATE_' if late else ''}{user}_77_{own}")
    assert s is not None and (s.source, s.id, s.late, s.file) == (
        "canvas",
        str(user),
        late,
        unicodedata.normalize("NFC", own),
    )


@settings(max_examples=150, deadline=None)
@given(
    full=st.text(
        st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="_/\\"), min_size=1, max_size=20
    ),
    pid=st.integers(1, 10**7),
    own=OWN_NAMES,
)
def test_any_student_file_name_keeps_the_moodle_identity(full, pid, own):
    s = identify(f"{full}_{pid}_assignsubmission_file_/{own}")
    assert s is not None and (s.source, s.id) == ("moodle", str(pid))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_name_is_an_identity_or_none(name):
    s = identify(name)
    assert s is None or s.id.isdigit()


@pytest.mark.parametrize(
    "file, number", [("hw2.md", 0), ("hw2-1.md", 1), ("hw2-12.ipynb", 12), ("my-file.md", 0), ("a-3", 3)]
)
def test_resubmission_numbers(file, number):
    assert resubmission(file) == number


# ---- rosters ---------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CANVAS_HEAD = "Student,ID,SIS User ID,SIS Login ID,Section,HW 2 (98765),Current Score\n"


@pytest.mark.parametrize(
    "text, platform",
    [
        (CANVAS_HEAD + "    Points Possible,,,,,20,(read only)\n\"Smith, Jane\",123456,S1,js,Sec 1,,0\n", "canvas"),
        (
            "Student,ID,SIS User ID,SIS Login ID,Integration ID,Section,HW 2 (98765)\n\"A, B\",1,,,,S,\n",
            "canvas",
        ),
        (
            "Identifier,Full name,Email address,Grade,Maximum Grade,Last modified (grade)\nParticipant 1,A,a@x,,5,-\n",
            "moodle",
        ),
        ("Name,ID,Email\nJane,7,j@x\n", "csv"),
    ],
    ids=["canvas", "canvas-integration-id", "moodle", "generic"],
)
def test_roster_platform_is_read_from_its_header(tmp_path, text, platform):
    assert load_roster(write(tmp_path / "r.csv", text)).platform == platform


@pytest.mark.parametrize(
    "text, reason",
    [
        (CANVAS_HEAD + "\"A, B\",1,,,S,,0\n\"C, D\",1,,,S,,0\n", "line 2"),
        (CANVAS_HEAD + "\"A, B\",x1,,,S,,0\n", "not a Canvas user id"),
        ("Identifier,Grade,Last modified (grade)\nParticipant 1,,-\nParticipant 1,,-\n", "also on line 2"),
        ("Identifier,Grade,Last modified (grade)\nStudent 1,,-\n", "not 'Participant <n>'"),
        ("Identifier,Grade,Last modified (grade)\nParticipant 1,,-,extra\n", "4 columns where the header has 3"),
        ("Identifier,Full name,Grade\nParticipant 1,A,\n", "without the column(s) Last modified (grade)"),
        ("a,b\n1,2\n", "not a roster"),
        ("", "empty"),
        ("\x00\x00,\n", "empty"),
    ],
    ids=[
        "duplicate-id",
        "bad-id",
        "moodle-duplicate",
        "moodle-identifier",
        "moodle-weird-columns",
        "moodle-missing",
        "not-roster",
        "empty",
        "nul",
    ],
)
def test_a_bad_roster_is_a_one_line_error_naming_it(tmp_path, text, reason):
    path = write(tmp_path / "roster.csv", text)
    with pytest.raises(SubmissionError, match=re.escape(reason)) as info:
        load_roster(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_roster_match_is_exact_unique_and_of_the_same_platform():
    canvas = load_roster(LMS / "canvas_gradebook_export.csv")
    moodle = load_roster(LMS / "moodle_grading_worksheet.csv")
    assert canvas.find(identify("smithjane_123456_1_hw.md")).name == "Smith, Jane"
    assert canvas.find(identify("janesmith_1234560_1_hw.md")) is None  # no prefix match
    assert canvas.find(identify("Jane Smith_123456_assignsubmission_file_/hw.md")) is None  # a Moodle id
    assert "Moodle file name" in canvas.why_unmatched(identify("Jane Smith_123456_assignsubmission_file_/hw.md"))
    assert moodle.find(identify("someone_4101_1_hw.md")) is None  # a Canvas id in a Moodle worksheet
    assert moodle.find(identify("Anyone At All_4102_assignsubmission_file_/x.md")).name == "Chidi Okafor"
    assert canvas.find(None) is None and "no LMS id" in canvas.why_unmatched(None)


def test_the_assignment_column_is_checked_against_the_gradebook(tmp_path):
    roster = load_roster(LMS / "canvas_gradebook_export.csv")
    assert roster.assignments() == ["HW 2: Backpropagation (98765)"]
    assert roster.assignment_column(None) == "HW 2: Backpropagation (98765)"
    assert roster.assignment_column("HW 2 (98765)") == "HW 2: Backpropagation (98765)"  # Canvas matches by id
    with pytest.raises(SubmissionError, match=r"close matches: 'HW 2: Backpropagation \(98765\)'"):
        roster.assignment_column("HW 2: Backpropogation (98764)")
    assert roster.points_possible("HW 2: Backpropagation (98765)") == 5
    two = write(tmp_path / "g.csv", CANVAS_HEAD.replace(",Current Score", ",Quiz (1),Current Score") + ",,,,,,,\n")
    with pytest.raises(SubmissionError, match="give --assignment"):
        load_roster(two).assignment_column(None)


def test_moodle_maximum_grade():
    assert load_roster(LMS / "moodle_grading_worksheet.csv").maximum_grade() == 5


# ---- one student, one submission -------------------------------------------------------------


def member(display: str, path: str = "x", error: str | None = None) -> Submission:
    return Submission(path, display, error=error)


def test_a_students_files_are_one_submission_in_their_first_files_place():
    subs = by_student(
        [
            member("z/smithjane_123456_1_references.txt"),
            member("z/okaforchidi_123457_2_hw2.md"),
            member("z/smithjane_123456_3_hw2.md"),
            member("z/smithjane_123456_4_hw2-1.md"),
            member("z/loose.md"),
            member("z/patelraj_123461_5_scan.pdf", error="z/...: refused"),
        ]
    )
    assert [s.student.id if s.student else None for s in subs] == ["123456", "123457", None, "123461"]
    jane = subs[0]
    assert [f.student.file for f in jane.files] == ["hw2-1.md", "hw2.md", "references.txt"]  # latest first
    assert subs[1].files == () and subs[2].student is None


def test_a_canvas_and_a_moodle_id_that_agree_are_two_students():
    subs = by_student([member("a_4101_1_hw.md"), member("Jane Smith_4101_assignsubmission_file_/hw.md")])
    assert len(subs) == 2


@pytest.mark.parametrize(
    "files, chosen, ignored",
    [
        (
            [("hw2.md", ALICE.read_bytes()), ("references.txt", b"I used the notes.\n")],
            "hw2.md",
            ["references.txt: no part"],
        ),
        (
            [("hw2.md", ALICE.read_bytes()), ("hw2-1.md", ALICE.read_bytes())],
            "hw2-1.md",
            ["hw2.md: hw2-1.md was graded instead (the later upload)"],
        ),
        (
            [("hw2.md", ALICE.read_bytes()), ("hw2-1.md", BOB.read_bytes())],
            "hw2.md",
            ["hw2-1.md: hw2.md holds more of the derivation and was graded"],
        ),
        ([("scan.pdf", b"%PDF-1.4\n\x00\x01"), ("hw2.txt", BOB.read_bytes())], "hw2.txt", ["scan.pdf: is binary"]),
    ],
    ids=["references", "resubmission", "more-of-the-derivation", "scan-and-text"],
)
def test_the_derivation_is_found_in_whichever_file_holds_it(tmp_path, files, chosen, ignored):
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for k, (own, data) in enumerate(files):
            z.writestr(f"smithjane_123456_{k}_{own}", data)
    (sub,) = collect([str(archive)], tmp_path / "work")
    report = grade_submission(sub, "softmax-2layer", FAST)
    assert report.student.file == chosen and not report.error
    assert len(report.ignored) == len(ignored)
    assert all(any(i.startswith(x) for i in report.ignored) for x in ignored), report.ignored
    assert all(str(tmp_path) not in i for i in report.ignored)  # the student's own names


def test_nothing_gradable_is_not_graded_with_each_files_reason(tmp_path):
    archive = tmp_path / "s.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("patelraj_123461_1_scan.pdf", b"%PDF-1.4\n\x00")
        z.writestr("patelraj_123461_2_notes.txt", b"no math here\n")
    (sub,) = collect([str(archive)], tmp_path / "work")
    report = grade_submission(sub, "softmax-2layer", FAST)
    assert "none of the files could be graded" in report.error
    assert "scan.pdf: is binary" in report.error and "notes.txt: no part of the derivation" in report.error


# ---- online-text entries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "html, text",
    [
        ("<p>a) $x &lt; 1$ &amp; b</p><p>c</p>", "a) $x < 1$ & b\nc"),
        ('<img class="equation_image" title="\\frac{1}{N}" alt="LaTeX: \\frac{1}{N}">', "$\\frac{1}{N}$"),
        ('<img class="equation_image" alt="LaTeX: y^2">', "$y^2$"),
        ('<img src="x.png" alt="a photo">', ""),
        (
            '<math><semantics><mi>x</mi><annotation encoding="application/x-tex">x^{2}</annotation></semantics></math>',
            "$x^{2}$",
        ),
        ('<script type="math/tex">z_1</script><script>alert(1)</script>', "$z_1$"),
        ("<head><title>T</title><style>p{}</style></head><body>hi<br>there</body>", "hi\nthere"),
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("<p>&nbsp;x&#8722;y</p>", "x−y"),
    ],
    ids=["entities", "canvas-equation", "canvas-alt", "photo", "mathml", "mathjax-script", "head", "list", "nbsp"],
)
def test_online_text_reads_as_typed(html, text):
    assert html_text(html) == text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_html_reads_without_error(html):
    assert "<script" not in html_text("<script>" + html + "</script>").lower() or "<script" in html.lower()


def test_a_canvas_text_entry_grades_like_the_text(tmp_path):
    page = tmp_path / "smithjane_123456_text.html"
    claim = r"\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)"
    page.write_text(
        f'<html><head><title>t</title></head><body><p>(a) <img class="equation_image" data-equation-content="{claim}"></p>'
        "<p>(b) $$\\frac{\\partial J}{\\partial b^{(2)}} = \\frac{1}{N}(\\psi(z^{(3)}) - \\Delta)\\mathbf{1}_N$$</p></body></html>",
        encoding="utf-8",
    )
    (sub,) = collect([str(page)], tmp_path / "w")
    report = grade_submission(sub, "softmax-2layer", FAST)
    verdicts = {p.quantity: p.verdict for p in report.parts}
    assert (sub.student.id, verdicts["dJ/dz3"], verdicts["dJ/db2"]) == ("123456", "correct", "correct")
    empty = tmp_path / "e.html"
    empty.write_text("<html><body><img src='x.png'></body></html>")
    with pytest.raises(SubmissionError, match="no text"):
        read_source(empty)


def test_files_are_grouped_within_one_download_and_among_loose_files(tmp_path):
    for name in ("a.zip", "b.zip"):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr("smithjane_123456_1_hw2.md", ALICE.read_bytes())
            z.writestr("smithjane_123456_2_refs.txt", b"notes\n")
    for loose in ("smithjane_123456_3_x.md", "smithjane_123456_4_y.md"):
        (tmp_path / loose).write_bytes(BOB.read_bytes())
    names = [str(tmp_path / n) for n in ("a.zip", "smithjane_123456_3_x.md", "b.zip", "smithjane_123456_4_y.md")]
    subs = collect(names, tmp_path / "work")
    assert [len(s.files) for s in subs] == [2, 2, 2]  # a.zip's, the loose files (where the first was), b.zip's
    assert [Path(s.display).parent.name for s in subs] == ["a.zip", tmp_path.name, "b.zip"]
