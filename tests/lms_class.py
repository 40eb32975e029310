"""A realistic class, packaged exactly as each platform hands it over (for the LMS round-trip tests).

Fifteen students with the awkward cases a real class has: several files per student (the
derivation and a references file; a resubmission ``hw2-1.md`` beside the first ``hw2.md``),
Unicode names (Müller, Nguyễn, 李华, O'Brien, Ødegård), a notebook, online-text entries (HTML from
each LMS's editor, with an equation image and entities), an empty file, a binary scan only, a
late submission, a student missing from the roster, and a student whose own file name imitates
another student's LMS name.

``build(root)`` writes, under `root`:

- ``canvas/submissions.zip``: Canvas's "Download Submissions" (``lib/content_zipper.rb``'s names:
  ``<sortable name>_[LATE_]<user id>_<file id>_<file>``, ``<...>_<user id>_text.html``);
  ``canvas/gradebook.csv``: Grades → Export (student columns, the assignment ``HW 2:
  Backpropagation (98765)`` out of 20, another assignment, read-only totals, Points Possible).
- ``moodle/submissions.zip``: Moodle's "Download all submissions" in folders
  (``<Full name>_<participant>_assignsubmission_file_/<file>``, ``..._onlinetext_/onlinetext.html``);
  ``moodle/worksheet.csv``: "Download grading worksheet" (Maximum Grade 20.00; one student
  graded before, with its Last modified (grade)).
- ``gradescope/<student>/`` and ``prairielearn/<student>/``: one student's files as each
  autograder mounts them.

Each student's expected grade is not written down: ``derivation(student)`` is the file that holds
the derivation, and the tests grade it alone to know what the round trip must deliver.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SUBS = ROOT / "tests" / "fixtures" / "submissions"
ASSIGNMENT = "HW 2: Backpropagation (98765)"
POINTS = 20.0


def _read(path: Path) -> bytes:
    return path.read_bytes()


def notebook(markdown: str) -> bytes:
    """A notebook of the text split over two Markdown cells and a code cell, as a student makes one."""
    lines = markdown.split("\n")
    half = len(lines) // 2

    def cell(text):
        return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}

    code = {"cell_type": "code", "metadata": {}, "source": ["import numpy as np"], "outputs": [], "execution_count": 1}
    nb = {
        "cells": [cell("\n".join(lines[:half])), code, cell("\n".join(lines[half:]))],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, ensure_ascii=False, indent=1).encode("utf-8")


CANVAS_TEXT_ENTRY = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>HW 2: Backpropagation: Nguyễn, Bảo</title>
<style>body {{ font-family: sans-serif }}</style></head>
<body><div class="user_content">
<p>Part (a): <img class="equation_image" title="\\frac{{\\partial J}}{{\\partial z^{{(3)}}}} = \\frac{{1}}{{N}}(\\psi(z^{{(3)}}) - \\Delta)"
 alt="LaTeX: \\frac{{\\partial J}}{{\\partial z^{{(3)}}}} = \\frac{{1}}{{N}}(\\psi(z^{{(3)}}) - \\Delta)"
 data-equation-content="\\frac{{\\partial J}}{{\\partial z^{{(3)}}}} = \\frac{{1}}{{N}}(\\psi(z^{{(3)}}) - \\Delta)" /></p>
<p>Part (b): $$\\frac{{\\partial \\tilde J}}{{\\partial W^{{(2)}}}} = \\frac{{1}}{{N}}(\\psi(z^{{(3)}}) - \\Delta)a^{{(2)T}} + \\lambda W^{{(2)}}$$</p>
<p>and $$\\frac{{\\partial J}}{{\\partial b^{{(2)}}}} = \\frac{{1}}{{N}}(\\psi(z^{{(3)}}) - \\Delta)\\mathbf{{1}}_N$$</p>
<p>Part (c): $$\\frac{{\\partial J}}{{\\partial z^{{(2)}}}} = \\begin{{cases}} \\frac{{1}}{{N}}(W^{{(2)T}}(\\psi(z^{{(3)}}) - \\Delta))_{{ij}} &amp; \\text{{if }} z^{{(2)}}_{{ij}} &gt; 0 \\\\ 0 &amp; \\text{{otherwise}} \\end{{cases}}$$</p>
<p>{script}</p>
</div></body></html>
"""

MOODLE_TEXT_ENTRY = """<p>(a) \\(\\frac{{\\partial J}}{{\\partial z^{{(3)}}}} = \\frac{{1}}{{N}}(\\psi(z^{{(3)}}) - \\Delta)\\)</p>
<p>(b) \\(\\frac{{\\partial J}}{{\\partial b^{{(2)}}}} = \\frac{{1}}{{N}}(\\psi(z^{{(3)}}) - \\Delta)\\mathbf{{1}}_N\\)</p>
<p>{script}</p>
"""

REFERENCES = "References\n\nI used the lecture notes (week 4) and Bishop, chapter 5. Thanks to the TA hours.\n"


@dataclass(frozen=True)
class Student:
    key: str  # a short handle for the tests
    sortable: str  # Canvas: "Last, First"
    full: str  # Moodle: "First Last"
    canvas_id: str
    moodle_id: str
    files: tuple[tuple[str, bytes], ...]  # (the student's own file name, content)
    derivation: str | None  # the own file name holding the derivation (None: nothing gradable)
    late: bool = False
    in_roster: bool = True
    text_entry: bool = False  # the derivation is an online-text entry
    sis: str = ""
    login: str = ""
    section: str = "CS 4780 Section 1"
    email: str = ""
    earlier: str = ""  # a grade already in the gradebook, entered by hand before this round
    extra: dict = field(default_factory=dict)

    def canvas_prefix(self) -> str:
        """Canvas's sortable-name part: lower-cased, every non-word character removed."""
        name = re.sub(r"[^\w]", "", self.sortable.lower())
        return re.sub(r"_(\d+)_", r"\1", name)


def students(hostile: str = "<script>alert('x')</script>") -> list[Student]:
    alice, bob = _read(EXAMPLES / "softmax-alice.md"), _read(EXAMPLES / "softmax-bob.md")
    dana = _read(ROOT / "tests" / "fixtures" / "lms" / "softmax-dana.md")
    rows, garbled = _read(SUBS / "softmax_rows_sign.md"), _read(SUBS / "softmax_missing_garbled.md")
    ocr, columns = _read(SUBS / "softmax_sample_unicode_ocr.md"), _read(SUBS / "softmax_columns_correct.md")
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 8
    return [
        Student(
            "jane",
            "Smith, Jane",
            "Jane Smith",
            "123456",
            "4101",
            (("hw2.md", alice), ("references.txt", REFERENCES.encode())),
            "hw2.md",
            sis="S0012",
            login="jsmith",
        ),
        Student(
            "chidi",
            "Okafor, Chidi",
            "Chidi Okafor",
            "123457",
            "4102",
            (("hw2.md", bob),),
            "hw2.md",
            late=True,
            sis="S0013",
            login="cokafor",
            section="CS 4780 Section 2",
        ),
        Student(
            "juergen",
            "Müller, Jürgen",
            "Jürgen Müller",
            "123458",
            "4103",
            (("Ableitung Übung 2.ipynb", notebook(alice.decode())),),
            "Ableitung Übung 2.ipynb",
            sis="S0014",
        ),
        Student(
            "bao",
            "Nguyễn, Bảo",
            "Bảo Nguyễn",
            "123459",
            "4104",
            (("text.html", CANVAS_TEXT_ENTRY.format(script=hostile.replace("<", "&lt;")).encode()),),
            "text.html",
            text_entry=True,
            sis="S0015",
        ),
        Student(
            "ana",
            "García, Ana",
            "Ana García",
            "123460",
            "4105",
            (("hw2.md", bob), ("hw2-1.md", dana), ("scan.pdf", pdf)),
            "hw2-1.md",
            sis="S0016",
        ),
        Student("raj", "Patel, Raj", "Raj Patel", "123461", "4106", (("scan.pdf", pdf),), None, sis="S0017"),
        Student("zoe", "Ødegård, Zoë", "Zoë Ødegård", "123462", "4107", (("hw2.md", b""),), None, sis="S0018"),
        Student("hua", "李, 华", "华 李", "123463", "4108", (("推导.md", rows),), "推导.md", sis="S0019"),
        Student(
            "siobhan",
            "O'Brien, Siobhán",
            "Siobhán O'Brien",
            "123464",
            "4109",
            (("answers.tex", garbled),),
            "answers.tex",
            sis="S0020",
        ),
        Student(
            "min",
            "Kim, Min",
            "Min Kim",
            "123465",
            "4110",
            (("notes_123456_999_hw2.md", ocr),),
            "notes_123456_999_hw2.md",
            sis="S0021",
        ),
        Student("john", "Doe, John", "John Doe", "123470", "4190", (("hw2.md", columns),), "hw2.md", in_roster=False),
        Student(
            "lena",
            "Schmidt, Lena",
            "Lena Schmidt",
            "123466",
            "4111",
            (("HW2 final (1).md", columns),),
            "HW2 final (1).md",
            sis="S0022",
            section="CS 4780 Section 2",
        ),
        Student(
            "omar",
            "Haddad, Omar",
            "Omar Haddad",
            "123467",
            "4112",
            (("hw2.txt", dana), ("plot.png", b"\x89PNG\r\n\x1a\n" + bytes(64))),
            "hw2.txt",
            sis="S0023",
        ),
        Student(
            "mei",
            "Wong, Mei",
            "Mei Wong",
            "123468",
            "4113",
            (("=HYPERLINK(x).md", alice),),
            "=HYPERLINK(x).md",
            sis="S0024",
        ),
        Student("priya", "Nair, Priya", "Priya Nair", "123469", "4114", (), None, sis="S0025", earlier="18"),
    ]


# ---- Canvas ------------------------------------------------------------------------------


def canvas_zip(path: Path, class_: list[Student]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    attachment = 7_890_100
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for s in class_:
            base = f"{s.canvas_prefix()}_{'LATE_' if s.late else ''}{s.canvas_id}"
            for own, data in s.files:
                if s.text_entry and own == "text.html":
                    z.writestr(f"{base}_text.html", data)
                    continue
                attachment += 1
                z.writestr(f"{base}_{attachment}_{own}", data)
        z.writestr("__MACOSX/._x", b"junk")
    return path


def canvas_export(path: Path, class_: list[Student]) -> Path:
    """Grades → Export: what Canvas writes (student columns, assignments, totals, Points Possible)."""
    header = [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        ASSIGNMENT,
        "Quiz 1 (98700)",
        "Current Score",
        "Unposted Current Score",
        "Final Score",
        "Unposted Final Score",
    ]
    rows = [
        header,
        [
            "    Points Possible",
            "",
            "",
            "",
            "",
            f"{POINTS:g}",
            "10",
            "(read only)",
            "(read only)",
            "(read only)",
            "(read only)",
        ],
    ]
    for s in class_:
        if s.in_roster:
            rows.append(
                [s.sortable, s.canvas_id, s.sis, s.login or s.key, s.section, s.earlier, "8", "80", "80", "40", "40"]
            )
    rows.append(["Student, Test", "999999", "", "", "CS 4780 Section 1", "", "", "0", "0", "0", "0"])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return path


# ---- Moodle ------------------------------------------------------------------------------


def moodle_zip(path: Path, class_: list[Student]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for s in class_:
            name = s.full.replace("_", " ")
            for own, data in s.files:
                if s.text_entry and own == "text.html":
                    entry = MOODLE_TEXT_ENTRY.format(script="&lt;script&gt;alert(1)&lt;/script&gt;")
                    z.writestr(f"{name}_{s.moodle_id}_assignsubmission_onlinetext_/onlinetext.html", entry)
                    continue
                z.writestr(f"{name}_{s.moodle_id}_assignsubmission_file_/{own}", data)
    return path


WORKSHEET_HEADER = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
]


def moodle_worksheet(path: Path, class_: list[Student]) -> Path:
    rows = [WORKSHEET_HEADER]
    for k, s in enumerate(x for x in class_ if x.in_roster):
        graded_before = k == 1 or bool(s.earlier)
        rows.append(
            [
                f"Participant {s.moodle_id}",
                s.full,
                s.email or f"{s.key}@example.edu",
                ("Submitted for grading - Graded" if graded_before else "Submitted for grading - Not graded")
                + (" - Assignment was submitted 1 day 2 hours late" if s.late else ""),
                (f"{float(s.earlier):.2f}" if s.earlier else "12.00") if graded_before else "",
                "20.00",
                "Yes",
                "Monday, 30 November 2026, 9:12 PM",
                "Tuesday, 1 December 2026, 10:00 AM" if graded_before else "-",
                "<p>Seen in class.</p>" if graded_before else "",
            ]
        )
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


# ---- autograders ---------------------------------------------------------------------------


def folder(path: Path, student: Student) -> Path:
    """A student's files as Gradescope (/autograder/submission) or PrairieLearn (/grade/student) mount them."""
    path.mkdir(parents=True, exist_ok=True)
    for own, data in student.files:
        (path / own).write_bytes(data)
    return path


def build(root: Path) -> dict[str, Path]:
    class_ = students()
    return {
        "canvas_zip": canvas_zip(root / "canvas" / "submissions.zip", class_),
        "canvas_export": canvas_export(root / "canvas" / "gradebook.csv", class_),
        "moodle_zip": moodle_zip(root / "moodle" / "submissions.zip", class_),
        "moodle_worksheet": moodle_worksheet(root / "moodle" / "worksheet.csv", class_),
    }
