"""The class overview of `grade --html DIR` and the writing of the whole report.

    index = write_html(reports, problem, Path("out"))   # out/index.html, out/<student>.html

The overview has a row per submission (a coloured cell per part), the verdict counts per part,
then the class view (classview.py): per part the most common named mistakes with how many
students made each, the parts flagged for review, and the files that could not be graded
(listed, and left out of every count and the mean).
"""

from __future__ import annotations

from collections import Counter
from html import escape
from pathlib import Path

from symderiv.core.files import write_atomic
from symderiv.output.classview import class_view
from symderiv.output.html import (
    COLOURS,
    VERDICTS,
    document,
    feedback_html,
    name_html,
    num_text,
    page_names,
    score_text,
    short_names,
    submission_page,
    verdict_badge,
    who,
)
from symderiv.output.report import MARKS

__all__ = ["index_page", "write_html"]


def index_page(reports, problem, names: list[str], shorts: list[str] | None = None) -> str:
    """The class overview: a row per submission, a coloured cell per part, verdict counts, the class view."""
    shorts = shorts or short_names([r.file for r in reports])
    parts = list(problem.parts)
    head = "".join(f"<th>{name_html(problem, q)}</th>" for q in parts)
    out = [
        f"<h1>{escape(problem.title)}</h1>",
        f'<p class="sub">{escape(problem.id)} · {len(reports)} submission{"s" if len(reports) != 1 else ""}</p>',
        '<p class="legend">' + "".join(f'<span class="v-{v}">{escape(MARKS[v])} {v}</span>' for v in VERDICTS) + "</p>",
        f'<table class="overview"><thead><tr><th>Submission</th>{head}<th class="num">Total</th></tr></thead><tbody>',
    ]
    counts = {q: Counter() for q in parts}
    for report, name, short in zip(reports, names, shorts):
        label = who(report, short)
        link = f'<a href="{escape(name)}">{escape(label)}</a>'
        if label != short:
            link += f'<div class="sub">{escape(short)}</div>'
        if report.error:
            by_hand = ""
            if report.by_hand:
                comment = report.override.get("comment")
                by_hand = (
                    '<span class="override">graded by a TA' + (f": {escape(comment)}" if comment else "") + ".</span> "
                )
            out.append(
                f'<tr class="errored"><td>{link}</td><td colspan="{max(len(parts), 1)}" class="error">{by_hand}'
                f"not graded: {escape(report.error.replace(report.file, short))}</td>"
                f'<td class="num">{score_text(report)}</td></tr>'
            )
            continue
        by_q = {p.quantity: p for p in report.parts}
        cells = []
        for q in parts:
            p = by_q.get(q)
            v = p.verdict if p else "missing"
            counts[q][v] += 1
            cls = v if v in COLOURS else "unparseable"
            tip = f"{v}: {p.feedback}" if p else "missing"
            mark = MARKS.get(v, "?") + ("*" if p is not None and p.ta_graded else "")
            cells.append(f'<td class="mark v v-{cls}" title="{escape(tip)}">{escape(mark)}</td>')
        out.append(f"<tr><td>{link}</td>{''.join(cells)}<td class=\"num\">{score_text(report)}</td></tr>")
    if not reports:
        out.append(f'<tr><td colspan="{len(parts) + 2}" class="none">No submissions.</td></tr>')
    out.append("</tbody><tfoot>")
    for v in VERDICTS:
        cells = "".join(f'<td class="num">{counts[q][v]}</td>' for q in parts)
        out.append(f"<tr><th>{verdict_badge(v)}</th>{cells}<td></td></tr>")
    graded = [r for r in reports if r.graded]
    if graded:
        mean = sum(r.score for r in graded) / len(graded)
        out.append(
            f'<tr><th>mean of {len(graded)} graded</th><td colspan="{len(parts)}"></td>'
            f'<td class="num">{num_text(mean)}/{num_text(max(r.max_score for r in graded))}</td></tr>'
        )
    out.append("</tfoot></table>")
    if any(p.ta_graded for r in graded for p in r.parts):
        out.append('<p class="override">* overridden by a TA</p>')
    out += class_view_html(reports, problem, shorts)
    return document(f"{problem.title} — class overview", "\n".join(out))


def class_view_html(reports, problem, shorts: list[str]) -> list[str]:
    view = class_view(reports, problem)
    short_of = {r.file: s for r, s in zip(reports, shorts)}
    out = [
        '<h2>What the class got wrong</h2>',
        '<table class="mistakes"><thead><tr><th>Part</th><th>Verdicts</th><th>Most common mistakes '
        '(students)</th></tr></thead><tbody>',
    ]
    for p in view.parts:
        counts = " ".join(verdict_badge(v, f"{n}") for v, n in p.counts if n)
        mistakes = (
            "<ul class=\"mistakes\">"
            + "".join(
                f"<li>{escape(name)}: <b>{n}</b><div class=\"example\">e.g. “{feedback_html(example)}”</div></li>"
                for _, name, n, example in p.mistakes
            )
            + "</ul>"
            if p.mistakes
            else '<span class="none">—</span>'
        )
        label = name_html(problem, p.quantity) + ("" if p.scored else ' <small class="sub">(optional)</small>')
        out.append(f"<tr><td>{label}</td><td>{counts}</td><td>{mistakes}</td></tr>")
    out.append("</tbody></table>")
    out.append(f'<h2>For review <small class="sub">({len(view.flagged)})</small></h2>')
    if view.flagged:
        out.append(
            '<table class="review"><thead><tr><th>Submission</th><th>Part</th><th class="num">Line</th>'
            '<th>Why</th></tr></thead><tbody>'
        )
        for f in view.flagged:
            name = f.student or short_of.get(f.file, f.file)
            out.append(
                f"<tr><td>{escape(name)}</td><td>{name_html(problem, f.quantity)}</td>"
                f'<td class="num">{num_text(f.line)}</td><td>{escape(f.reason)}</td></tr>'
            )
        out.append("</tbody></table>")
    else:
        out.append('<p class="none">Nothing needs a second look.</p>')
    if view.unreadable:
        out.append(f'<h2>Not graded <small class="sub">({len(view.unreadable)}; not counted above)</small></h2><ul>')
        out += [f"<li>{escape(error.replace(file, short_of.get(file, file)))}</li>" for file, error in view.unreadable]
        out.append("</ul>")
    return out


def write_html(reports, problem, out_dir: Path) -> Path:
    """Write index.html and one page per report into out_dir (created if need be); return index.html."""
    reports = list(reports)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [r.file for r in reports]
    names = page_names(files, [getattr(r, "student", None) for r in reports])
    shorts = short_names(files)
    for report, name, short in zip(reports, names, shorts):
        write_atomic(out_dir / name, submission_page(report, problem, short=short))
    index = out_dir / "index.html"  # a link planted here is replaced, never followed
    write_atomic(index, index_page(reports, problem, names, shorts))
    return index
