"""The page's view of a graded derivation: each math line of the student's text with its mark.

The judgement is the grade report's (`grade --json`); this only lays it out by line. All HTML
here is built from escaped text and from `math_html`, which serialises MathML itself through an
allowlist of tags and attributes, so nothing the student typed becomes markup.

A line's status, worst first: a wrong step or an incorrect final answer is "wrong" (✗); an
unreadable final answer "unreadable" (?); a final answer right up to layout "layout" (~); a line
whose steps or final answer hold "right" (✓); a line nothing was checked on "unchecked" (·).
"""

from __future__ import annotations

import re
from html import escape

from symderiv.web.library import extract, feedback_unicode, math_html

_INLINE_MATH = re.compile(r"\$([^$]+)\$")

STATUS = {  # status: (mark, words shown beside the mark)
    "wrong": ("✗", "wrong"),
    "unreadable": ("?", "cannot be read"),
    "layout": ("~", "right up to layout"),
    "right": ("✓", "right"),
    "unchecked": ("·", "not checked"),
}
_PART_STATUS = {"incorrect": "wrong", "unparseable": "unreadable", "correct-up-to-layout": "layout", "correct": "right"}
_ORDER = ("wrong", "unreadable", "layout", "right", "unchecked")


def line_status(steps: list[dict], parts: list[dict]) -> str:
    found = {("right" if s["ok"] else "wrong") for s in steps}
    found |= {_PART_STATUS[p["verdict"]] for p in parts if p["verdict"] in _PART_STATUS}
    return next((s for s in _ORDER if s in found), "unchecked")


def _row_latex(row) -> str:
    return row.raw.strip()


def _messages(steps: list[dict], parts: list[dict]) -> list[dict]:
    """What to say under a line: each final answer's feedback, then its wrong steps, each said once
    (a wrong final answer's step says what its part says, naming the part the same way)."""
    items = [
        {"text": f"{p.get('name') or p['quantity']}: {feedback_unicode(p['feedback'])}", "math": ""} for p in parts
    ]
    for s in steps:
        if s["ok"]:
            continue
        if s.get("message_latex", s["message"]).strip() == f"{s['left'].strip()} ≠ {s['right'].strip()}":
            items.append({"text": "This step does not hold:", "math": math_html(f"{s['left']} \\neq {s['right']}")})
        else:
            items.append({"text": feedback_unicode(s["message"]), "math": ""})
    out, seen = [], set()
    for item in items:
        if (item["text"], item["math"]) not in seen:
            seen.add((item["text"], item["math"]))
            out.append(item)
    return out


def _by_line(items: list[dict], field: str) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for item in items:
        out.setdefault(item[field], []).append(item)
    return out


def build_view(report: dict, text: str) -> dict:
    """{"report": the grade report, "lines": [...], "parts": [...]} for the page.

    Each line: {line, status, mark, words, math: [MathML html], preface, messages: [{text, math}],
    first_wrong_of: [quantity ids whose first wrong line this is]}. Text fields are plain text
    (the page sets them as text); `math` fields are sanitised MathML."""
    steps, parts = report.get("steps", []), report.get("parts", [])
    rows: dict[int, list] = {}
    if not report.get("error"):
        for row in extract(text):
            rows.setdefault(row.line, []).append(row)
    steps_at, parts_at, first_wrong_at = _by_line(steps, "line"), _by_line(parts, "line"), {}
    for p in parts:  # linear in the text: each line looks up its own steps and parts
        if p.get("first_wrong_line") is not None:
            first_wrong_at.setdefault(p["first_wrong_line"], []).append(p.get("name") or p["quantity"])
    lines = []
    for number in sorted(rows):
        line_steps, line_parts = steps_at.get(number, []), parts_at.get(number, [])
        status = line_status(line_steps, line_parts)
        mark, words = STATUS[status]
        lines.append(
            {
                "line": number,
                "status": status,
                "mark": mark,
                "words": words,
                "math": [math_html(_row_latex(r)) for r in rows[number]],
                "preface": " ".join(r.preface for r in rows[number] if r.preface),
                "messages": _messages(line_steps, line_parts),
                "first_wrong_of": first_wrong_at.get(number, []),
            }
        )
    summary = []
    for p in parts:
        status = _PART_STATUS.get(p["verdict"], "unchecked")
        mark, words = STATUS[status] if p["verdict"] in _PART_STATUS else ("–", "missing")
        summary.append(
            {
                "quantity": p["quantity"],
                "name": p.get("name") or p["quantity"],
                "verdict": p["verdict"],
                "status": status,
                "mark": mark,
                "words": words,
                "line": p["line"],
                "first_wrong_line": p.get("first_wrong_line"),
                "feedback": p["feedback"],
                "feedback_text": feedback_unicode(p["feedback"]),
                "points": p["points"],
                "max_points": p["max_points"],
                "scored": p["max_points"] > 0,
                "claim": math_html(p["claim"]) if p["claim"] else "",
            }
        )
    return {"report": report, "lines": lines, "parts": summary}


# ---- before the deadline: marks only (`serve --hide-feedback`, a key's [grading] hide_feedback) ----

HIDDEN_NOTE = "Feedback and scores are released after the deadline; each line shows only whether it holds."


def hidden_report(report: dict) -> dict:
    """A grade report with only its verdicts: no feedback, fixes, points or score."""
    if "parts" not in report:
        return report
    return {
        "problem": report.get("problem"),
        "hidden": True,
        "note": HIDDEN_NOTE,
        "parts": [
            {
                "quantity": p["quantity"],
                "name": p.get("name") or p["quantity"],
                "verdict": p["verdict"],
                "line": p["line"],
            }
            for p in report["parts"]
        ],
        "steps": [{"line": s["line"], "ok": s["ok"]} for s in report.get("steps", [])],
        **({"error": report["error"]} if report.get("error") else {}),
    }


def hidden_view(view: dict) -> dict:
    """The page's view with the marks per line and per part only."""
    if "lines" not in view:
        return view
    lines = [{**line, "messages": [], "first_wrong_of": []} for line in view["lines"]]
    keep = ("quantity", "name", "verdict", "status", "mark", "words", "line", "scored", "claim")
    parts = [{k: p[k] for k in keep if k in p} for p in view["parts"]]
    return {"report": hidden_report(view["report"]), "lines": lines, "parts": parts, "hidden": True}


def hidden_verdict(verdict: dict) -> dict:
    """A single claim's verdict without its feedback or evidence."""
    if "verdict" not in verdict:
        return verdict
    return {"verdict": verdict["verdict"], "accepted": verdict.get("accepted"), "hidden": True, "note": HIDDEN_NOTE}


def prose_html(text: str) -> str:
    """A key's statement (prose with $…$ math) as HTML: the prose escaped, the math as MathML."""
    out, pos = [], 0
    for m in _INLINE_MATH.finditer(text):
        out.append(escape(text[pos : m.start()]))
        inline = math_html(m.group(1)).replace(' displaystyle="true"', "", 1)
        out.append(inline.replace('<div class="math">', '<span class="math">', 1).replace("</div>", "</span>"))
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out).strip()
