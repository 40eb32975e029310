"""The HTML report of `symderiv grade --html DIR`: a page per submission and a class overview.

Every file is self-contained static HTML: the CSS is inline and the math is MathML made by
latex2mathml, so the report opens offline from file:// with no JavaScript and no CDN.

Student LaTeX is untrusted. latex2mathml's own `convert()` un-escapes the text it serialises
(`\\text{<script>…}` would come out as live markup, `\\href{javascript:…}` as a link), so this
module builds the element tree with `convert_to_element()` and serialises it itself: MathML
tags only, an allowlist of presentation attributes, all text escaped. LaTeX that does not
convert (`\\frac{1}{`) is shown as its escaped source in a <code> element instead.

    page = submission_page(report, problem)   # the class overview and write_html are in overview.py

`problem` needs only `.id`, `.title` and `.parts` (a `symderiv.answerkey.problem.Problem`).
"""

from __future__ import annotations

import re
import unicodedata
from html import escape
from pathlib import PurePath
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element

from symderiv.core.errors import SymderivError
from symderiv.grading.names import quantity_latex
from symderiv.notation.mathtext import MATH, informal_to_latex, split_math
from symderiv.notation.unicode import to_unicode
from symderiv.output.escape import display_name, strip_controls
from symderiv.output.report import MARKS

VERDICTS = ("correct", "correct-up-to-layout", "incorrect", "unparseable", "missing")

# verdict -> (text colour, background); the class name is "v-" + verdict.
COLOURS = {
    "correct": ("#116329", "#d2f4d9"),
    "correct-up-to-layout": ("#7a4d00", "#ffe8a3"),
    "incorrect": ("#a40e26", "#ffd7d5"),
    "unparseable": ("#424a53", "#e1e4e8"),
    "missing": ("#424a53", "#e1e4e8"),
    "undecided": ("#6f42c1", "#eee2ff"),
}

_MATHML_TAG = re.compile(r"m[a-z]+|none")
_MATHML_ATTRS = frozenset(
    """
    display displaystyle scriptlevel mathvariant mathsize mathcolor mathbackground stretchy fence
    form separator largeop movablelimits symmetric minsize maxsize accent accentunder lspace rspace
    width height depth voffset linebreak linethickness notation columnalign rowalign columnlines
    rowlines columnspacing rowspacing frame equalrows equalcolumns
""".split()
)
_CHAR_REF = re.compile(r"&amp;(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7});")
_RESERVED = {
    "index",
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}

CSS = (
    """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
       margin: 2em auto; max-width: 1150px; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; word-break: break-all; }
h2 { font-size: 1.15em; margin-top: 1.6em; }
.sub { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; }
th, td { border: 1px solid #d1d9e0; padding: .35em .55em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mark { text-align: center; font-weight: bold; }
.v { font-weight: 600; white-space: nowrap; }
"""
    + "".join(f".v-{v} {{ color: {fg}; background: {bg}; }}\n" for v, (fg, bg) in COLOURS.items())
    + """
.imath math { font-size: 1.1em; }
th.feedback { min-width: 16em; }
.override { color: #6639ba; font-size: .9em; }
.optional h2, h2.optional { color: #59636e; }
ul.mistakes { margin: 0; padding-left: 1.1em; }
ul.mistakes .example { color: #59636e; font-size: .9em; margin-bottom: .3em; }
.late { color: #a40e26; font-size: .85em; }
.math { overflow-x: auto; overflow-y: hidden; padding: .2em 0; max-width: 34em; }
math { font-size: 1.1em; }
code.latex { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: #f6f8fa;
             padding: 0 .25em; white-space: pre-wrap; word-break: break-all; }
tr.wrong td { background: #ffebe9; }
tr.wrong td.mark { color: #a40e26; }
tr.ok td.mark { color: #116329; }
.error { border: 2px solid #a40e26; background: #ffebe9; padding: .8em 1em; border-radius: 6px; }
.none { color: #8c959f; }
tfoot td, tfoot th { background: #f6f8fa; font-size: .92em; }
.legend span { display: inline-block; padding: 0 .5em; margin-right: .4em; border-radius: 4px; }
a { color: #0969da; }
"""
)


# ---- math ----------------------------------------------------------------------------


def math_html(latex: str) -> str:
    """`latex` as inline MathML, or as escaped source in <code> when it does not convert."""
    if not latex or not latex.strip():
        return '<span class="none">—</span>'
    try:
        root = convert_to_element(latex)
        root.set("displaystyle", "true")
        return f'<div class="math">{_serialise(root)}</div>'
    except Exception:  # the converter raises many kinds on broken input (and RecursionError)
        return f'<code class="latex">{escape(latex)}</code>'


def inline_math_html(latex: str) -> str:
    """`latex` as inline MathML; as escaped Unicode text when it does not convert (never as source)."""
    try:
        root = convert_to_element(latex)
        return f'<span class="imath">{_serialise(root)}</span>'
    except Exception:  # the converter raises many kinds on broken input (and RecursionError)
        return escape(to_unicode(latex))


def feedback_html(text: str) -> str:
    """Feedback prose, escaped, with each formula in it as MathML (notation/mathtext.py finds them)."""
    return "".join(
        inline_math_html(informal_to_latex(piece)) if kind == MATH else escape(piece, quote=False)
        for kind, piece in split_math(text or "")
    )


def _serialise(el: Element) -> str:
    if not _MATHML_TAG.fullmatch(el.tag):
        raise ValueError(f"not a MathML element: {el.tag!r}")
    attrs = "".join(
        f' {k}="{escape(v)}"' for k, v in el.attrib.items() if k in _MATHML_ATTRS or (k == "xmlns" and el.tag == "math")
    )
    inner = _text(el.text) + "".join(_serialise(child) + _text(child.tail) for child in el)
    return f"<{el.tag}{attrs}>{inner}</{el.tag}>"


def _text(s: str | None) -> str:
    # latex2mathml stores symbols as character references ("&#x02202;"): keep those, escape the rest.
    return _CHAR_REF.sub(r"&\1;", escape(s, quote=False)) if s else ""


# ---- names -----------------------------------------------------------------------------


def short_names(files: list[str]) -> list[str]:
    """The files relative to the folder they all share (`/home/ta/hw/a/sub.md` -> `a/sub.md`)."""
    paths = [PurePath(str(f).replace("\\", "/")) for f in files]
    if not paths:
        return []
    common = list(paths[0].parent.parts)
    for p in paths[1:]:
        parts = list(p.parent.parts)
        k = 0
        while k < min(len(common), len(parts)) and common[k] == parts[k]:
            k += 1
        common = common[:k]
    return [PurePath(*p.parts[len(common) :]).as_posix() if len(p.parts) > len(common) else p.name for p in paths]


def page_names(files: list[str], students=None) -> list[str]:
    """A safe, unique, readable page file name for each submission, in order: the student's name and
    id where known (`smithjane-123456.html`), else the path below the folder the files share
    (`a/sub.txt`, `b/sub.txt` -> `a_sub.html`, `b_sub.html`). Unique ignoring case, never
    `index.html`, no path separators."""
    students = list(students) if students is not None else [None] * len(files)
    used: set[str] = set()
    names = []
    for short, student in zip(short_names(files), students):
        if student is not None and (student.name or student.id):
            stem = "-".join(x for x in (student.name, student.id) if x)
        else:
            stem = str(PurePath(short).with_suffix("")) if PurePath(short).suffix else short
        slug = re.sub(r"[^\w-]+", "_", unicodedata.normalize("NFC", stem)).strip("_-")[:80] or "submission"
        if slug.lower() in _RESERVED:
            slug = f"sub-{slug}"
        name, n = slug, 1
        while name.lower() in used:
            n += 1
            name = f"{slug}-{n}"
        used.add(name.lower())
        names.append(f"{name}.html")
    return names


def who(report, short: str | None = None) -> str:
    """How a staff page names the submission: the student, else its path below the shared folder."""
    student = getattr(report, "student", None)
    return student.label if student is not None and student.label else (short or PurePath(report.file).name)


ENTRIES = {  # what the student typed into the LMS, which the download names for them
    ("canvas", "text.html"): "online text entry",
    ("canvas", "link.html"): "website URL entry",
    ("moodle", "onlinetext.html"): "online text entry",
}


def own_file(report) -> str:
    """The submission's file as its student named it ("hw2.md"; "online text entry" for what the
    student typed in the LMS), never a zip path or a download folder."""
    student = getattr(report, "student", None)
    if student is not None and student.file:
        return ENTRIES.get((student.source, student.file), PurePath(student.file).name)
    return PurePath(str(report.file).replace("\\", "/")).name


def student_error(report) -> str:
    """Why a submission could not be graded, for its student: the reason, with the student's own
    file name in place of the path the staff see."""
    error = report.error or ""
    shown = str(report.file)
    if error.startswith(shown + ": "):
        error = f"{own_file(report)}: {error[len(shown) + 2 :]}"
    return error.replace(shown, own_file(report))


def part_label(part) -> str:
    """A part as students see it: its display name (∂J̃/∂W⁽²⁾)."""
    return getattr(part, "name", "") or part.quantity


# ---- pages -----------------------------------------------------------------------------


def document(title: str, body: str) -> str:
    """The page; a file name that is not UTF-8 is shown with \\x escapes (display_name), never a crash."""
    return strip_controls(
        display_name(
            f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
        ),
        keep="\n\t",
    )


def num_text(x: float | None) -> str:
    return "—" if x is None else f"{round(x, 3):g}"


def verdict_badge(v: str, text: str | None = None) -> str:
    cls = v if v in COLOURS else "unparseable"
    return f'<span class="v v-{cls}">{escape(MARKS.get(v, "?"))} {escape(text or v)}</span>'


def score_text(report) -> str:
    return "—" if report.error and not report.by_hand else f"{num_text(report.score)}/{num_text(report.max_score)}"


def _line(report, line: int) -> str:
    """A Line cell: the number, or "cell 3, line 2" in a notebook."""
    return report.where(line) if report.cells else str(line)


def name_html(problem, qid: str) -> str:
    """A quantity's display name as inline MathML (its id never shows)."""
    try:
        return inline_math_html(quantity_latex(problem, problem.quantity(qid)))
    except (SymderivError, AttributeError):  # a report of another key, a problem without quantities
        return escape(qid)


def _parts_table(report, problem, parts, wrong_lines, student: bool = False) -> list[str]:
    def first_wrong_of(p):
        fwl = p.first_wrong_line if p.verdict not in ("correct", "correct-up-to-layout") else None
        return None if fwl == p.line else fwl

    show_first_wrong = any(first_wrong_of(p) for p in parts)
    out = [
        '<table class="parts"><thead><tr><th>Part</th><th>Verdict</th><th>Final answer</th>'
        '<th class="num">Line</th><th class="num">Points</th><th class="feedback">Feedback</th>'
        + ('<th class="num">First wrong step</th>' if show_first_wrong else "")
        + '</tr></thead><tbody>'
    ]
    for p in parts:
        fwl = first_wrong_of(p)
        where = report.where(fwl) if fwl else ""
        first_wrong = (
            '<span class="none">—</span>'
            if fwl is None
            else f'<a href="#line-{fwl}">{escape(where)}</a>'
            if fwl in wrong_lines
            else escape(where)
        )
        verdict = verdict_badge(p.verdict)
        feedback = feedback_html(p.feedback)
        if p.override and not p.ta_graded:  # only a comment: beside the checker's message
            who = "Your TA" if student else "TA"
            feedback += f'<div class="override">{who}: {escape(p.override.get("comment", ""))}</div>'
        elif p.override and student:
            comment = p.override.get("comment")
            verdict += '<div class="override">set by your TA</div>'
            feedback = (
                f'<div class="override">{escape(comment) if comment else "Your TA set the grade of this part."}</div>'
            )
        elif p.override:
            was = p.override.get("automatic", {})
            verdict += f'<div class="override">TA override (the checker said {escape(was.get("verdict", "?"))})</div>'
            comment = p.override.get("comment")
            feedback = (
                f'<div class="override">TA: {escape(comment)}</div>' if comment else ""
            ) + f"<div>Checker: {feedback_html(was.get('feedback', p.feedback))}</div>"
        line = escape(_line(report, p.line)) if p.line else num_text(None)
        points = f"{num_text(p.points)}/{num_text(p.max_points)}" if p.max_points else "—"
        out.append(
            f'<tr class="part"><td>{name_html(problem, p.quantity)}</td><td>{verdict}</td>'
            f"<td>{math_html(p.claim)}</td><td class=\"num\">{line}</td>"
            f'<td class="num">{points}</td>'
            f'<td>{feedback}</td>' + (f'<td class="num">{first_wrong}</td>' if show_first_wrong else "") + "</tr>"
        )
    if not parts:
        out.append('<tr><td colspan="7" class="none">No parts were found.</td></tr>')
    out.append("</tbody></table>")
    return out


def submission_page(
    report, problem, back: str | None = "index.html", short: str | None = None, audience: str = "staff"
) -> str:
    """The HTML of one submission's page. `audience="student"` (the feedback sent back): no link to
    the class overview, no LMS id, problem id or path, a TA's comment in place of the checker's
    message on an overridden part."""
    student = audience == "student"
    late = ' <span class="late">late</span>' if getattr(report, "student", None) and report.student.late else ""
    if student:
        s = getattr(report, "student", None)
        name = s.shown_name if s is not None and s.name else "Your submission"
        sub = f"{escape(problem.title)} · {escape(own_file(report))} · score <b>{score_text(report)}</b>"
    else:
        name = who(report, short)
        shown_file = short or PurePath(report.file).name
        sub = (
            f"{escape(problem.title)} ({escape(report.problem or problem.id)}) · "
            + (f"{escape(shown_file)} · " if shown_file != name else "")
            + f"score <b>{score_text(report)}</b>"
        )
    out = [
        f'<p><a href="{escape(back)}">← class overview</a></p>' if back and not student else "",
        f"<h1>{escape(name)}{late}</h1>",
        f'<p class="sub">{sub}</p>',
    ]
    title = f"{name} — {problem.title}"
    if report.error and not report.by_hand:
        reason = student_error(report) if student else report.error.replace(report.file, short or own_file(report))
        out.append(f'<div class="error"><b>This submission could not be graded.</b><br>{escape(reason)}</div>')
        return document(f"{title} — not graded", "\n".join(out))
    if report.override and report.override.get("comment"):
        out.append(f'<p class="override">{"Your TA" if student else "TA"}: {escape(report.override["comment"])}</p>')
    if report.late_penalty:
        out.append(f'<p class="late">Late: {report.late_penalty:.0%} of the score taken off.</p>')
    if report.error:  # graded by hand
        return document(f"{title} — {score_text(report)}", "\n".join(x for x in out if x))
    wrong_lines = {s.line for s in report.steps if not s.ok}
    scored = [p for p in report.parts if p.max_points]
    optional = [p for p in report.parts if not p.max_points]
    out.append("<h2>Parts</h2>")
    out += _parts_table(report, problem, scored, wrong_lines, student)
    if optional:
        out.append('<h2 class="optional">Optional parts <small class="sub">(checked, not scored)</small></h2>')
        out += _parts_table(report, problem, optional, wrong_lines, student)
    out += _steps_table(report, problem, student)
    if report.ignored:
        out.append("<h2>Also received, not graded</h2><ul>")
        out += [f"<li>{escape(item)}</li>" for item in report.ignored]
        out.append("</ul>")
    return document(f"{title} — {score_text(report)}", "\n".join(x for x in out if x))


def _steps_table(report, problem, student: bool = False) -> list[str]:
    steps = report.steps
    if student:  # a part a TA has graded: the checker's word on its steps is not the student's feedback
        overridden = {p.quantity for p in report.parts if p.ta_graded}
        steps = tuple(s for s in steps if s.quantity not in overridden)
    bad = sum(1 for s in steps if not s.ok)
    out = [f'<h2>Checked steps <small class="sub">({len(steps)} checked, {bad} wrong)</small></h2>']
    if not steps:
        return out + ['<p class="none">No step could be checked.</p>']
    out.append(
        '<table class="steps"><thead><tr><th class="num">Line</th><th></th><th>Part</th>'
        "<th>Left</th><th></th><th>Right</th><th>Message</th></tr></thead><tbody>"
    )
    anchored: set[int] = set()
    for s in steps:
        anchor = ""
        if not s.ok and s.line not in anchored:
            anchored.add(s.line)
            anchor = f' id="line-{s.line}"'
        cls, mark, rel = ("ok", "✓", "=") if s.ok else ("wrong", "✗", "≠")
        # "left ≠ right" only repeats the two sides rendered beside it
        redundant = s.message in ("ok", f"{s.left.strip()} ≠ {s.right.strip()}")
        message = "" if redundant else feedback_html(s.message)
        part = name_html(problem, s.quantity) if s.quantity else ""
        out.append(
            f'<tr class="step {cls}"{anchor}><td class="num">{escape(_line(report, s.line))}</td>'
            f'<td class="mark">{mark}</td>'
            f"<td>{part}</td><td>{math_html(s.left)}</td>"
            f'<td class="mark">{rel}</td><td>{math_html(s.right)}</td><td>{message}</td></tr>'
        )
    out.append("</tbody></table>")
    return out
