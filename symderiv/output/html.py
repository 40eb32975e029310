"""The HTML report of `symderiv grade --html DIR`: a page per submission and a class overview.

Every file is self-contained static HTML: the CSS is inline and the math is MathML made by
latex2mathml, so the report opens offline from file:// with no JavaScript and no CDN.

Student LaTeX is untrusted. latex2mathml's own `convert()` un-escapes the text it serialises
(`\\text{<script>…}` would come out as live markup, `\\href{javascript:…}` as a link), so this
module builds the element tree with `convert_to_element()` and serialises it itself: MathML
tags only, an allowlist of presentation attributes, all text escaped. LaTeX that does not
convert (`\\frac{1}{`) is shown as its escaped source in a <code> element instead.

    index = write_html(reports, problem, Path("out"))   # out/index.html, out/<submission>.html

`problem` needs only `.id`, `.title` and `.parts` (a `symderiv.truth.problem.Problem`).
"""
from __future__ import annotations

import re
from collections import Counter
from html import escape
from pathlib import Path, PurePath
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element

from symderiv.output.report import MARKS

VERDICTS = ("correct", "correct-up-to-layout", "incorrect", "unparseable", "missing")

# verdict -> (text colour, background); the class name is "v-" + verdict.
COLOURS = {
    "correct": ("#116329", "#d2f4d9"),
    "correct-up-to-layout": ("#7a4d00", "#ffe8a3"),
    "incorrect": ("#a40e26", "#ffd7d5"),
    "unparseable": ("#424a53", "#e1e4e8"),
    "missing": ("#424a53", "#e1e4e8"),
}

_MATHML_TAG = re.compile(r"m[a-z]+|none")
_MATHML_ATTRS = frozenset("""
    display displaystyle scriptlevel mathvariant mathsize mathcolor mathbackground stretchy fence
    form separator largeop movablelimits symmetric minsize maxsize accent accentunder lspace rspace
    width height depth voffset linebreak linethickness notation columnalign rowalign columnlines
    rowlines columnspacing rowspacing frame equalrows equalcolumns
""".split())
_CHAR_REF = re.compile(r"&amp;(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7});")
_RESERVED = {"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}

CSS = """
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
""" + "".join(f".v-{v} {{ color: {fg}; background: {bg}; }}\n" for v, (fg, bg) in COLOURS.items()) + """
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


# ---- math ----------------------------------------------------------------------------

def math_html(latex: str) -> str:
    """`latex` as inline MathML, or as escaped source in <code> when it does not convert."""
    if not latex or not latex.strip():
        return '<span class="none">—</span>'
    try:
        root = convert_to_element(latex)
        root.set("displaystyle", "true")
        return f'<div class="math">{_serialise(root)}</div>'
    except Exception:       # the converter raises many kinds on broken input (and RecursionError)
        return f'<code class="latex">{escape(latex)}</code>'


def _serialise(el: Element) -> str:
    if not _MATHML_TAG.fullmatch(el.tag):
        raise ValueError(f"not a MathML element: {el.tag!r}")
    attrs = "".join(f' {k}="{escape(v)}"' for k, v in el.attrib.items()
                    if k in _MATHML_ATTRS or (k == "xmlns" and el.tag == "math"))
    inner = _text(el.text) + "".join(_serialise(child) + _text(child.tail) for child in el)
    return f"<{el.tag}{attrs}>{inner}</{el.tag}>"


def _text(s: str | None) -> str:
    # latex2mathml stores symbols as character references ("&#x02202;"): keep those, escape the rest.
    return _CHAR_REF.sub(r"&\1;", escape(s, quote=False)) if s else ""


# ---- names -----------------------------------------------------------------------------

def page_names(files: list[str]) -> list[str]:
    """A safe, unique page file name for each submission file, in order (`a/sub.txt` -> `sub.html`,
    `b/sub.txt` -> `sub-2.html`). Unique ignoring case, never `index.html`, no path separators."""
    used: set[str] = set()
    names = []
    for file in files:
        stem = PurePath(str(file).replace("\\", "/")).stem
        slug = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")[:80] or "submission"
        if slug.lower() in _RESERVED:
            slug = f"sub-{slug}"
        name, n = slug, 1
        while name.lower() in used:
            n += 1
            name = f"{slug}-{n}"
        used.add(name.lower())
        names.append(f"{name}.html")
    return names


# ---- pages -----------------------------------------------------------------------------

def _document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _num(x: float | None) -> str:
    return "—" if x is None else f"{round(x, 3):g}"


def _verdict(v: str, text: str | None = None) -> str:
    cls = v if v in COLOURS else "unparseable"
    return f'<span class="v v-{cls}">{escape(MARKS.get(v, "?"))} {escape(text or v)}</span>'


def _score(report) -> str:
    return "—" if report.error else f"{_num(report.score)}/{_num(report.max_score)}"


def submission_page(report, problem, back: str = "index.html") -> str:
    """The HTML of one submission's page."""
    out = [f'<p><a href="{escape(back)}">← class overview</a></p>',
           f"<h1>{escape(report.file)}</h1>",
           f'<p class="sub">{escape(problem.title)} ({escape(report.problem or problem.id)}) · '
           f"score <b>{_score(report)}</b></p>"]
    if report.error:
        out.append(f'<div class="error"><b>This submission could not be graded.</b><br>'
                   f"{escape(report.error)}</div>")
        return _document(f"{report.file} — error", "\n".join(out))
    wrong_lines = {s.line for s in report.steps if not s.ok}
    out.append("<h2>Parts</h2>")
    out.append('<table class="parts"><thead><tr><th>Quantity</th><th>Verdict</th><th>Final answer</th>'
               '<th class="num">Line</th><th class="num">Points</th><th>Feedback</th>'
               '<th class="num">First wrong line</th></tr></thead><tbody>')
    for p in report.parts:
        fwl = p.first_wrong_line
        first_wrong = ('<span class="none">—</span>' if fwl is None else
                       f'<a href="#line-{fwl}">{fwl}</a>' if fwl in wrong_lines else str(fwl))
        out.append(f'<tr class="part"><td>{escape(p.quantity)}</td><td>{_verdict(p.verdict)}</td>'
                   f"<td>{math_html(p.claim)}</td><td class=\"num\">{_num(p.line)}</td>"
                   f'<td class="num">{_num(p.points)}/{_num(p.max_points)}</td>'
                   f'<td>{escape(p.feedback)}</td><td class="num">{first_wrong}</td></tr>')
    if not report.parts:
        out.append('<tr><td colspan="7" class="none">No parts were found.</td></tr>')
    out.append("</tbody></table>")

    bad = sum(1 for s in report.steps if not s.ok)
    out.append(f"<h2>Checked steps <small class=\"sub\">({len(report.steps)} checked, {bad} wrong)</small></h2>")
    if not report.steps:
        out.append('<p class="none">No step could be checked.</p>')
    else:
        out.append('<table class="steps"><thead><tr><th class="num">Line</th><th></th><th>Quantity</th>'
                   "<th>Left</th><th></th><th>Right</th><th>Message</th></tr></thead><tbody>")
        anchored: set[int] = set()
        for s in report.steps:
            anchor = ""
            if not s.ok and s.line not in anchored:
                anchored.add(s.line)
                anchor = f' id="line-{s.line}"'
            cls, mark, rel = ("ok", "✓", "=") if s.ok else ("wrong", "✗", "≠")
            # "left ≠ right" only repeats the two sides rendered beside it
            redundant = s.message in ("ok", f"{s.left.strip()} ≠ {s.right.strip()}")
            message = "" if redundant else escape(s.message)
            out.append(f'<tr class="step {cls}"{anchor}><td class="num">{s.line}</td><td class="mark">{mark}</td>'
                       f"<td>{escape(s.quantity or '')}</td><td>{math_html(s.left)}</td>"
                       f'<td class="mark">{rel}</td><td>{math_html(s.right)}</td><td>{message}</td></tr>')
        out.append("</tbody></table>")
    return _document(f"{report.file} — {_score(report)}", "\n".join(out))


def index_page(reports, problem, names: list[str]) -> str:
    """The class overview: a row per submission, a coloured cell per part, verdict counts below."""
    parts = list(problem.parts)
    head = "".join(f"<th>{escape(q)}</th>" for q in parts)
    out = [f"<h1>{escape(problem.title)}</h1>",
           f'<p class="sub">{escape(problem.id)} · {len(reports)} submission{"s" if len(reports) != 1 else ""}</p>',
           '<p class="legend">' + "".join(f'<span class="v-{v}">{escape(MARKS[v])} {v}</span>' for v in VERDICTS)
           + "</p>",
           f'<table class="overview"><thead><tr><th>Submission</th>{head}<th class="num">Total</th></tr></thead><tbody>']
    counts = {q: Counter() for q in parts}
    for report, name in zip(reports, names):
        link = f'<a href="{escape(name)}">{escape(report.file)}</a>'
        if report.error:
            out.append(f'<tr class="errored"><td>{link}</td><td colspan="{max(len(parts), 1)}" class="error">'
                       f"error: {escape(report.error)}</td><td class=\"num\">—</td></tr>")
            continue
        by_q = {p.quantity: p for p in report.parts}
        cells = []
        for q in parts:
            p = by_q.get(q)
            v = p.verdict if p else "missing"
            counts[q][v] += 1
            cls = v if v in COLOURS else "unparseable"
            tip = f"{v}: {p.feedback}" if p else "missing"
            cells.append(f'<td class="mark v v-{cls}" title="{escape(tip)}">{escape(MARKS.get(v, "?"))}</td>')
        out.append(f"<tr><td>{link}</td>{''.join(cells)}<td class=\"num\">{_score(report)}</td></tr>")
    if not reports:
        out.append(f'<tr><td colspan="{len(parts) + 2}" class="none">No submissions.</td></tr>')
    out.append("</tbody><tfoot>")
    for v in VERDICTS:
        cells = "".join(f'<td class="num">{counts[q][v]}</td>' for q in parts)
        out.append(f"<tr><th>{_verdict(v)}</th>{cells}<td></td></tr>")
    graded = [r for r in reports if not r.error]
    if graded:
        mean = sum(r.score for r in graded) / len(graded)
        out.append(f'<tr><th>mean of {len(graded)} graded</th><td colspan="{len(parts)}"></td>'
                   f'<td class="num">{_num(mean)}/{_num(graded[0].max_score)}</td></tr>')
    out.append("</tfoot></table>")
    return _document(f"{problem.title} — class overview", "\n".join(out))


def write_html(reports, problem, out_dir: Path) -> Path:
    """Write index.html and one page per report into out_dir (created if need be); return index.html."""
    reports = list(reports)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = page_names([r.file for r in reports])
    for report, name in zip(reports, names):
        (out_dir / name).write_text(submission_page(report, problem), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(index_page(reports, problem, names), encoding="utf-8")
    return index
