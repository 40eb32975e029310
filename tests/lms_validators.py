"""What each platform does with the files symderiv writes, written from the platforms' own rules.

- ``canvas_import``: Canvas's gradebook import (``app/models/gradebook_importer.rb``): the
  delimiter it detects, the header it requires (``Student``, ``ID``, the SIS columns, ending at
  ``Section``), assignments found by the id in ``Title (id)`` (else by title; else a new one),
  the read-only totals it strips, the ``Points Possible`` row (which sets the assignment's
  points), students found by ``ID`` (else SIS ids, else the name), grades with a decimal comma
  normalised. It refuses, as an import that "lands wrong", anything that would create an
  assignment or a student, change points possible, or give one student two rows.
- ``moodle_upload``: Moodle's grading-worksheet upload (``assignfeedback_offline``'s importer and
  ``csv_import_reader``): UTF-8, comma, every row as many cells as the header; ``Identifier``,
  ``Grade`` and ``Last modified (grade)`` required; a participant found by the number after
  ``Participant ``; a grade skipped when empty, negative, above the maximum, or stale against
  ``Last modified (grade)``; the ``Feedback comments`` column set as the comment's HTML.
- ``canvas_feedback_upload``: Canvas's *Upload Submissions* of a zip of comment files
  (``Assignment#generate_comments_from_files`` / ``infer_comment_context_from_filename``): a file's
  base name split on ``_``, its first two all-digit pieces the user and an attachment, which must
  be one of that user's submitted files; ``._`` files and a last piece ``link…`` are ignored.
- ``moodle_feedback_upload``: Moodle's *Upload multiple feedback files in a zip*
  (``assignfeedback_file_zip_importer::is_valid_filename_for_import``): hidden files (``.``, ``~``)
  ignored; the first path part that splits on ``_`` (at most 5 pieces) into at least 4, with a
  numeric participant and a real plugin type and name, names the participant; the rest is the file.
- ``gradescope_results`` / ``prairielearn_results``: the results.json each autograder reads
  (Gradescope's "Autograder Specifications", PrairieLearn's "External Grading" docs and its grader
  host, which reads results.json only after exit code 0 and refuses one over 1 MB).

Each returns what the platform would record, or raises ``Refused`` with the reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from html.parser import HTMLParser


class Refused(AssertionError):
    """The platform would refuse the file, or import it differently from what was meant."""


# ---- Canvas --------------------------------------------------------------------------------

NON_ASSIGNMENT = re.compile(
    "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
    "Override Score|Override Grade|Override Status"
)
TITLE_ID = re.compile(r"(?s)(.*)\s+\((\d+)\)")


def _canvas_rows(text: str) -> list[list[str]]:
    lines = text.splitlines()[:3]

    def consistent(sep):
        counts = {len(next(csv.reader([line], delimiter=sep))) for line in lines if line}
        return counts.pop() if len(counts) == 1 else 0

    sep = ";" if consistent(";") > consistent(",") else ","
    if sep != ",":
        raise Refused("Canvas would read this file as semicolon-separated")
    return [row for row in csv.reader(io.StringIO(text)) if not re.fullmatch(r"[;, ]*", ",".join(row))]


def _student_columns(header: list[str]) -> int:
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        raise Refused(f"invalid header row: {header[:3]}")
    count = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        count += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        integration = 1 if len(header) > 4 and re.search(r"Integration\s+ID", header[4]) else 0
        count += 2 + integration
        if len(header) > 4 + integration and re.search(r"Root\s+Account", header[4 + integration]):
            count += 1
    if "Section" not in header[count - 1]:
        raise Refused(f"invalid header row: the student columns end at {header[count - 1]!r}, not Section")
    return count


def canvas_import(text: str, export: str) -> dict[str, str]:
    """Canvas's import of `text` into the course the gradebook `export` comes from: {user ID: grade}."""
    rows = _canvas_rows(text)
    old = _canvas_rows(export)
    info = _student_columns(rows[0])
    old_info = _student_columns(old[0])
    known_ids = {TITLE_ID.fullmatch(h)[2]: h for h in old[0][old_info:] if TITLE_ID.fullmatch(h)}
    known_titles = {TITLE_ID.fullmatch(h)[1] if TITLE_ID.fullmatch(h) else h: h for h in old[0][old_info:]}
    assignments = {}
    for k, name in enumerate(rows[0][info:], start=info):
        if NON_ASSIGNMENT.search(name):
            continue
        m = TITLE_ID.fullmatch(name)
        existing = known_ids.get(m[2]) if m else None
        existing = existing or known_titles.get(name)
        if existing is None:
            raise Refused(f"the column {name!r} would create a new assignment")
        assignments[k] = existing
    if not assignments:
        raise Refused("no assignment column")
    old_points = next((r for r in old[1:] if r and "Points Possible" in r[0]), [])
    students = {r[1]: r for r in old[1:] if r and "Points Possible" not in r[0] and len(r) > 1}
    grades: dict[str, str] = {}
    for row in rows[1:]:
        if row and "Points Possible" in row[0]:
            for k, name in assignments.items():
                before = old_points[old[0].index(name)] if old_points else ""
                if row[k].strip() and row[k].strip() != before.strip():
                    raise Refused(f"Points Possible {row[k]!r} would change {name!r} (out of {before!r})")
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c or "", re.I) for c in row):
            continue
        user = row[1].strip()
        if user not in students:
            raise Refused(f"no student with ID {user!r} (Canvas would look them up by name: {row[0]!r})")
        if user in grades:
            raise Refused(f"two rows for the student {user}")
        for k in assignments:
            grade = row[k].strip() if k < len(row) else ""
            if re.fullmatch(r"-?[0-9.,]+%?", grade):
                *whole, last = re.split(r"[,.]", grade)
                grade = f"{''.join(whole)}.{last}" if whole else last
            if grade and grade.upper() != "EX":
                try:
                    value = float(grade.rstrip("%"))
                except ValueError:
                    raise Refused(f"the grade {grade!r} of {user} is not a number") from None
                if not math.isfinite(value):
                    raise Refused(f"the grade {grade!r} of {user} is not finite")
            grades[user] = grade
    return grades


# ---- Moodle --------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def html_tags(html: str) -> tuple[list, str]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags, "".join(parser.text)


def moodle_upload(text: str, worksheet: str) -> dict[str, tuple[str, str]]:
    """Moodle's upload of `text` for the assignment `worksheet` was downloaded from:
    {participant: (grade, feedback HTML)} for every row whose grade Moodle would set."""
    try:
        data = text.encode("utf-8").decode("utf-8")
    except UnicodeError:
        raise Refused("not UTF-8") from None
    rows = list(csv.reader(io.StringIO(data.removeprefix("\ufeff"))))
    rows = [r for r in rows if r != [] and r != [""]]
    header = rows[0]
    if len(header) < 2:
        raise Refused("csvfewcolumns")
    if len(set(header)) != len(header):
        raise Refused("duplicate column names")
    for row in rows[1:]:
        if len(row) != len(header):
            raise Refused(f"csvweirdcolumns: {len(row)} cells where the header has {len(header)}")
    col = {name: k for k, name in enumerate(header)}
    for required in ("Identifier", "Grade", "Last modified (grade)"):
        if required not in col:
            raise Refused(f"invalidgradeimport: no {required!r} column")
    old = list(csv.reader(io.StringIO(worksheet)))
    old_col = {name: k for k, name in enumerate(old[0])}
    participants = {r[old_col["Identifier"]][len("Participant ") :]: r for r in old[1:] if r}
    out = {}
    for row in rows[1:]:
        pid = row[col["Identifier"]][len("Participant ") :]
        if pid not in participants:
            raise Refused(f"{row[col['Identifier']]!r} is not a participant: the row would be skipped")
        before = participants[pid]
        if row[col["Last modified (grade)"]] != before[old_col["Last modified (grade)"]]:
            raise Refused(f"{pid}: Last modified (grade) changed: Moodle compares it with the grade's own time")
        grade = row[col["Grade"]].strip()
        if not grade:
            continue
        try:
            value = float(grade.replace(",", "."))
        except ValueError:
            raise Refused(f"{pid}: the grade {grade!r} is not a number") from None
        maximum = float(before[old_col["Maximum Grade"]])
        if value < 0 or value > maximum:
            raise Refused(f"{pid}: the grade {value} is outside 0..{maximum}: Moodle skips it")
        feedback = row[col["Feedback comments"]] if "Feedback comments" in col else ""
        tags, _ = html_tags(feedback)
        if any(t in ("script", "iframe", "object", "embed", "style") for t, _ in tags):
            raise Refused(f"{pid}: active content in the feedback comment")
        if any(k.startswith("on") for _, attrs in tags for k in attrs):
            raise Refused(f"{pid}: an event handler in the feedback comment")
        old_grade = before[old_col["Grade"]].strip()
        if old_grade and float(old_grade) == value and feedback == before[old_col.get("Feedback comments", 0)]:
            continue
        out[pid] = (grade, feedback)
    return out


# ---- bulk feedback uploads -----------------------------------------------------------------


def canvas_feedback_upload(feedback: zipfile.ZipFile, submissions: zipfile.ZipFile) -> dict[str, list[str]]:
    """Canvas's re-upload of a submissions zip: {user id: [files attached as a comment]}; a file Canvas
    would ignore (no user, or an attachment that is not one of the user's) is refused."""
    submitted: dict[str, set[str]] = {}
    for name in submissions.namelist():
        numbers = [p for p in name.rsplit("/", 1)[-1].split("_") if re.fullmatch(r"\d+", p)][:2]
        if len(numbers) == 2:  # a file a student uploaded (not a text entry, not __MACOSX/._x)
            submitted.setdefault(numbers[0], set()).add(numbers[1])
    out: dict[str, list[str]] = {}
    for name in feedback.namelist():
        base = name.rsplit("/", 1)[-1]
        pieces = base.split("_")
        user, *attachment = [p for p in pieces if re.fullmatch(r"\d+", p)][:2] or [""]
        if base.startswith("._") or pieces[-1].startswith("link") or not attachment:
            raise Refused(f"{name}: Canvas ignores it (no user and attachment in its name)")
        if attachment[0] not in submitted.get(user, ()):
            raise Refused(f"{name}: {attachment[0]} is not a file user {user} submitted: Canvas ignores it")
        out.setdefault(user, []).append(name)
    return out


MOODLE_PLUGINS = {("assignsubmission", "file"), ("assignsubmission", "onlinetext"), ("assignfeedback", "file")}


def moodle_feedback_upload(feedback: zipfile.ZipFile, participants: set[str]) -> dict[str, list[str]]:
    """Moodle's feedback-files zip import: {participant: [file names as stored]}; a file Moodle would
    skip silently is refused."""
    out: dict[str, list[str]] = {}
    for name in feedback.namelist():
        if name.endswith("/"):
            continue
        parts = name.split("/")
        if parts[-1].startswith((".", "~")):
            raise Refused(f"{name}: a hidden file, which Moodle skips")
        for k, part in enumerate(parts):
            info = part.split("_", 4)
            if len(info) < 4 or not info[1].isdigit() or (info[2], info[3]) not in MOODLE_PLUGINS:
                continue
            if info[1] not in participants:
                raise Refused(f"{name}: {info[1]} is not a participant: Moodle skips it")
            stored = "/".join([*(info[4:] if len(info) == 5 and info[4] else []), *parts[k + 1 :]])
            out.setdefault(info[1], []).append(stored)
            break
        else:
            raise Refused(f"{name}: no fullname_participant_plugintype_pluginname part: Moodle skips it")
    return out


# ---- autograders ---------------------------------------------------------------------------

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
GS_TOP = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
GS_TEST = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def gradescope_results(data: dict) -> dict:
    """Checks a results.json against Gradescope's spec; returns {"score", "tests": [(name, shown, score, max)]}
    where `shown` is how Gradescope marks the test (passed / failed)."""
    json.dumps(data, allow_nan=False)
    if unknown := set(data) - GS_TOP:
        raise Refused(f"unknown top-level keys {unknown}")
    if "score" not in data and not all("score" in t for t in data.get("tests", [])):
        raise Refused("no score: neither top-level nor on every test")
    if "score" in data and not _number(data["score"]):
        raise Refused("score is not a number")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in data and data[key] not in FORMATS:
            raise Refused(f"{key} {data[key]!r}")
    if data.get("output_format", "simple_format") in ("html", "simple_format"):
        tags, _ = html_tags(data.get("output", ""))
        if tags:
            raise Refused(f"the output is rendered as HTML and has tags in it: {tags[:3]}")
    for key in ("visibility", "stdout_visibility"):
        if key in data and data[key] not in VISIBILITY:
            raise Refused(f"{key} {data[key]!r}")
    shown = []
    for t in data.get("tests", []):
        if unknown := set(t) - GS_TEST:
            raise Refused(f"unknown test keys {unknown}")
        for key in ("score", "max_score"):
            if key in t and not _number(t[key]):
                raise Refused(f"test {t.get('name')!r}: {key} is not a number")
        if "status" in t and t["status"] not in ("passed", "failed"):
            raise Refused(f"status {t['status']!r}")
        if "visibility" in t and t["visibility"] not in VISIBILITY:
            raise Refused(f"visibility {t['visibility']!r}")
        if not isinstance(t.get("output", ""), str) or not isinstance(t.get("name", ""), str):
            raise Refused("a test's name and output are strings")
        status = t.get("status") or ("passed" if t.get("score", 0) >= t.get("max_score", 0) else "failed")
        shown.append((t.get("name", ""), status, t.get("score"), t.get("max_score")))
    total = data["score"] if "score" in data else sum(t["score"] for t in data["tests"])
    return {"score": total, "tests": shown}


def prairielearn_results(data: dict) -> dict:
    """Checks a results.json against PrairieLearn's external-grading format; returns it."""
    raw = json.dumps(data, allow_nan=False)
    if len(raw.encode("utf-8")) > 1_000_000:
        raise Refused("results.json over 1 MB")
    gradable = data.get("gradable", True)
    if not isinstance(gradable, bool):
        raise Refused("gradable is not a boolean")
    if gradable:
        if not _number(data.get("score")) or not 0 <= data["score"] <= 1:
            raise Refused(f"score {data.get('score')!r} is not in [0, 1]")
    else:
        errors = data.get("format_errors")
        if not errors or not (isinstance(errors, str) or all(isinstance(e, str) for e in errors)):
            raise Refused("not gradable, without format_errors saying why")
    for t in data.get("tests", []):
        if not isinstance(t.get("name"), str):
            raise Refused("a test without a name")
        if "points" in t and not (
            _number(t["points"]) and _number(t["max_points"]) and 0 <= t["points"] <= t["max_points"]
        ):
            raise Refused(f"test {t['name']!r}: points {t.get('points')} of {t.get('max_points')}")
    return data
