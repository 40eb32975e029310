"""Human and machine output: terminal tables, JSON, a CSV gradebook, progress on a terminal."""

from __future__ import annotations

import csv
import io
import json
import sys
import time

from symderiv.notation.mathtext import feedback_unicode
from symderiv.notation.unicode import to_unicode
from symderiv.output.escape import csv_cell, safe_data, terminal_text

MARKS = {
    "correct": "✓",
    "correct-up-to-layout": "~",
    "incorrect": "✗",
    "unparseable": "?",
    "missing": "-",
    "undecided": "!",
}


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, label: str, stream=None):
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.enabled = total > 1 and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()

    def step(self, note: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 28
        filled = int(width * self.done / self.total)
        elapsed = time.perf_counter() - self.start
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{elapsed:5.1f}s {terminal_text(note)[:30]:30}"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def verdict_text(v) -> str:
    lines = [f"{MARKS.get(v.verdict, '?')} {v.verdict}: {terminal_text(feedback_unicode(v.feedback))}"]
    if v.numeric is not None:
        err = f", max rel. error {v.numeric.max_rel_err:.2g}" if v.numeric.max_rel_err is not None else ""
        reading = f" ({v.numeric.reading})" if v.numeric.reading else ""
        lines.append(
            f"  numeric:  {v.numeric.status}{reading}, {v.numeric.points} point{'s' if v.numeric.points != 1 else ''}{err}"
            + (f" — {v.numeric.detail}" if v.numeric.detail and v.numeric.status != "equal" else "")
        )
    if v.symbolic is not None:
        sizes = f" on {v.symbolic.sizes}" if v.symbolic.sizes else ""
        lines.append(
            f"  symbolic: {v.symbolic.status}{sizes}" + (f" — {v.symbolic.detail}" if v.symbolic.detail else "")
        )
    if v.normalized:
        lines.append(f"  read as:  {terminal_text(to_unicode(v.normalized))}")
    lines.append(f"  ({v.seconds * 1000:.0f} ms)")
    return "\n".join(lines)


def plain_feedback(d: dict) -> dict:
    """A verdict's JSON with `feedback` as Unicode text (formulas rendered) and the checker's own
    text, LaTeX formulas and all, kept as `feedback_latex`."""
    return {**d, "feedback": feedback_unicode(d.get("feedback", "")), "feedback_latex": d.get("feedback", "")}


def verify_line(r) -> str:
    undecided = getattr(r, "status", "") == "undecided"
    mark = "✓" if r.ok else "?" if undecided else "✗"
    symbolic = "ok" if r.symbolic else "undecided" if undecided else "FAIL"
    flags = f"numeric {'ok' if r.numeric else 'FAIL'}, symbolic {symbolic}"
    return (
        f"{mark} {r.problem:22} {r.quantity:18} {flags}, gradcheck {r.gradcheck_max_rel_err:.1e}, "
        f"{r.seconds:.2f}s — {r.message}"
    )


def grade_json(reports) -> str:
    return json.dumps([safe_data(r.to_dict()) for r in reports], indent=2, ensure_ascii=False, default=str)


def grade_jsonl_line(report) -> str:
    """One report as one line of JSON (grade --jsonl)."""
    return json.dumps(safe_data(report.to_dict()), ensure_ascii=False, default=str)


def grade_csv(reports, parts: list[str]) -> str:
    """One row per submission, one column per part (points), total: a spreadsheet for the course's staff
    (for an LMS import use `--format canvas` or `--format moodle`, lms.py)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file"] + [csv_cell(q) for q in parts] + ["total", "max", "error", "student", "student_id"])
    for r in reports:
        points = {p.quantity: p.points for p in r.parts}
        student = getattr(r, "student", None)
        writer.writerow(
            [csv_cell(r.file)]
            + [f"{points.get(q, 0):g}" for q in parts]
            + [
                f"{r.score:g}",
                f"{r.max_score:g}",
                csv_cell(r.error or ""),
                csv_cell(student.name) if student else "",
                csv_cell(student.id) if student else "",
            ]
        )
    return buf.getvalue()
