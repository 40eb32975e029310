r"""`symderiv export` and `grade --export-latex`: LaTeX documents of verified results.

Every formula is typeset from the expression tree (``latex.to_latex``), never pasted
from the input, and the document uses only amsmath, amssymb and bm. Each result is a
numbered ``equation`` whose body is ``<left-hand side> = <claim>``, labelled
``eq:<problem>:<quantity>``; both sides parse back to the trees they were printed
from (tests/test_export.py). A quantity that ``verify`` did not prove is not typeset:
it is left out with a visible "Not verified" note, or, with ``strict=True``, the export
is refused (SymderivError naming the file and the quantity).

Example (verifies every quantity first, so it takes a few seconds per file)::

    from pathlib import Path
    from symderiv.output.export import export_document
    text, summary = export_document([Path("derivations/softmax-2layer.toml")])
    Path("solutions.tex").write_text(text)      # then: pdflatex solutions.tex
    print(summary)   # 10 of 10 quantities exported from 1 derivation file

Document: a title, then one ``\section`` per derivation file: the problem's statement
(the course's own LaTeX, included as is), a generated description of the network
(layers, activations, loss, regulariser, numbering), the verified results, each with a
line saying how it was verified, and the notes on quantities left out.

Submissions (``export_submissions``): one standalone document per graded submission,
the correct and correct-up-to-layout parts typeset as above from the student's own
claim (parsed and re-printed: normalised), and the parts still open listed by name.
A submission that could not be graded gets a document that says so (every submission
has a file, and the list returned names them all).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from symderiv.answerkey.expand import OBJECTIVE_KEYS
from symderiv.answerkey.problem import Problem, Quantity, layer_brackets
from symderiv.core.errors import ParseError
from symderiv.core.files import write_atomic
from symderiv.core.tree import Add, Call, Compare, Neg, Node, Norm, Num, Pow, Product, Sum, Sym
from symderiv.grading.names import quantity_lhs
from symderiv.notation.latex import GREEK, latex_style, to_latex
from symderiv.notation.mathtext import MATH, informal_to_latex, split_math
from symderiv.notation.parse import parse_lenient
from symderiv.notation.unicode import to_unicode
from symderiv.output.escape import escape_text, latex_comment

PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage{amsmath}
\usepackage{amssymb}
\usepackage{bm}
\addtolength{\textwidth}{1.4in}
\addtolength{\oddsidemargin}{-0.7in}
\addtolength{\evensidemargin}{-0.7in}
\allowdisplaybreaks
\renewcommand{\labelitemi}{$\bullet$}
"""
ACTIVATION_NAMES = {
    "relu": "ReLU",
    "sigmoid": "the logistic sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "softplus": "softplus",
    "identity": "the identity",
}
LOSS_TEXT = {
    "cross-entropy": "cross-entropy of the output against the one-hot labels {labels}",
    "bce": "binary cross-entropy of the output against the labels {labels}",
    "mse": "squared error of the output against the targets {labels}",
    "generic": "a generic smooth cost of the output",
}
READINGS = {"columns": "samples as columns", "rows": "samples as rows", "single": "one sample"}
OPEN_VERDICTS = ("incorrect", "unparseable", "missing", "undecided")


def feedback_latex(text: str) -> str:
    """Feedback for a LaTeX document: prose escaped, each formula typeset from its parsed tree
    (never pasted: student LaTeX does not reach pdflatex), or as Unicode text when it does not parse."""
    out = []
    for kind, piece in split_math(text or ""):
        if kind != MATH:
            out.append(escape_text(piece))
            continue
        try:
            out.append(f"${to_latex(parse_tree(informal_to_latex(piece)))}$")
        except (ParseError, RecursionError):
            out.append(escape_text(to_unicode(piece)))
    return "".join(out)


def eq_label(*parts: str) -> str:
    return ":".join(re.sub(r"[^A-Za-z0-9./-]+", "-", p) for p in parts)


def sci_number(x: float) -> str:
    """A number for math mode: 0, 3.1\\times 10^{-9}."""
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}\\times 10^{{{int(exponent)}}}"


def inline_math(node: Node) -> str:
    return f"${to_latex(node)}$"


# ---- trees the document is built from -------------------------------------------------


def parse_tree(latex: str) -> Node:
    return parse_lenient(latex).tree


def size_node(size) -> Node:
    if isinstance(size, int):
        return Num(size)
    m = re.fullmatch(r"([A-Za-z])(\d+)", size)  # n0 -> n_0
    return Sym(m.group(1), indices=(Num(int(m.group(2))),)) if m else Sym(size)


def objective_symbol(problem: Problem, key: str) -> Node:
    """How the problem writes an objective: the model's symbol (J, \\tilde J, L), or for a network
    key's objective key (Jt) what its notation table says."""
    notation = problem.shorthand.notation if problem.shorthand is not None else None
    written = dict(notation.objectives).get(key) if notation is not None else None
    written = written or (OBJECTIVE_KEYS[key][0] if key in OBJECTIVE_KEYS else key)
    try:
        return parse_tree(written)
    except ParseError:
        words = written.replace("\\", " ").split()
        if len(words) == 2 and words[0] in ("hat", "tilde", "bar"):
            return Sym(words[1], decor=words[0])
        return Sym(key)


def _activation(problem: Problem, k: int) -> Node:
    """The function symbol of layer k (1..L) in the problem's notation, e.g. \\phi, \\psi, g_2."""
    sh = problem.shorthand
    n = sh.notation
    names = n.output_activation if k == sh.depth else n.hidden_activation
    name = names[0] if names else sh.layers[k - 1][1]
    indices = (Num(n.pre_label(k)),) if set(n.hidden_activation) & set(n.output_activation) else ()
    return Call(name, (), 0, indices)


def network_items(problem: Problem) -> list[str]:
    """A [network] key's network as itemize entries, every formula built as a tree from its declaration."""
    sh = problem.shorthand
    n = sh.notation
    items = [
        f"Input: {inline_math(Sym('a', layer=Num(n.pre_label(0))))} with "
        f"{inline_math(size_node(sh.input_size))} features."
    ]
    for k, (size, act) in enumerate(sh.layers, start=1):
        out, inp, wl = Num(n.pre_label(k)), Num(n.pre_label(k - 1)), Num(n.weight_label(k))
        b = Sym("b", layer=wl)
        if n.weight_layout == "in-out":
            i, j = Sym("i"), Sym("j")
            z = Sym("z", layer=out, indices=(j,))
            rhs = Add(
                (
                    Sum(
                        Product((Sym("a", layer=inp, indices=(i,)), Sym("w", layer=wl, indices=(i, j))), ("juxt",)), "i"
                    ),
                    replace(b, indices=(j,)),
                )
            )
            a = Sym("a", layer=out, indices=(j,))
        else:
            w = Sym("W" if size != 1 else "w", layer=wl)
            z, a = Sym("z", layer=out), Sym("a", layer=out)
            rhs = Add((Product((w, Sym("a", layer=inp)), ("juxt",)), b))
        g = _activation(problem, k)
        applied = replace(g, args=(z,))
        # a generic key's activations (tanh, softplus, …) are only the test instances, not the problem
        named = "" if g.func == act or sh.generic else f", {escape_text(ACTIVATION_NAMES.get(act, act))}"
        items.append(
            f"Layer {k}: {inline_math(Compare(z, '=', rhs))}, {inline_math(Compare(a, '=', applied))}{named}; "
            f"{inline_math(size_node(size))} {'unit' if size == 1 else 'units'}."
        )
    labels = inline_math(Sym(n.labels[0])) if n.labels else "$y$"
    items.append("Loss: " + LOSS_TEXT.get(sh.loss, escape_text(sh.loss)).format(labels=labels) + ".")
    for key, _ in n.objectives:
        _, averaged, regularised = OBJECTIVE_KEYS.get(key, (key, False, False))
        sym = objective_symbol(problem, key)
        if regularised and sh.regulariser:
            norms = tuple(
                Pow(Norm(Sym("W", layer=Num(n.weight_label(k))), "F"), Num(2)) for k in range(1, sh.depth + 1)
            )
            coefficient = sh.regulariser if sh.regulariser in GREEK or len(sh.regulariser) == 1 else "lambda"
            reg = Product((Sym(coefficient), Add(norms) if len(norms) > 1 else norms[0]), ("juxt",))
            what = f"{inline_math(Compare(sym, '=', Add((objective_symbol(problem, 'J'), reg))))} (regularised)"
        elif averaged:
            what = f"{inline_math(sym)}: the loss averaged over the {inline_math(Sym('N'))} samples"
        else:
            what = f"{inline_math(sym)}: the loss of one sample" if key == "L" else f"{inline_math(sym)}: the cost"
        items.append("Objective " + what + ".")
    l, one = Sym("l"), Num(1)
    source, target = (l, Add((l, one))) if n.weight_number == "input" else (Add((l, Neg(one))), l)
    weight = Sym("w" if n.weight_layout == "in-out" else "W", layer=l)
    items.append(
        f"Numbering: the input is {inline_math(Sym('a', layer=Num(n.input_number)))}; {inline_math(weight)} maps "
        f"{inline_math(Sym('a', layer=source))} to {inline_math(Sym('z', layer=target))}"
        + (
            f"; {inline_math(replace(weight, indices=(Sym('i'), Sym('j'))))} connects unit $i$ of the layer "
            f"below to unit $j$."
            if n.weight_layout == "in-out"
            else "."
        )
    )
    return items


def display(lhs: Node, rhs: Node, label: str) -> str:
    """One numbered display equation, `lhs = rhs`."""
    return f"\\begin{{equation}}\\label{{{label}}}\n  {to_latex(lhs)} = {to_latex(rhs)}\n\\end{{equation}}"


# ---- per submission --------------------------------------------------------------------


def _part_display(problem: Problem, q: Quantity, claim: str, label: str) -> list[str]:
    """The student's claim re-typeset from its tree; several component values as a list."""
    pieces = [p for p in claim.split("; ") if p.strip()] if q.kind == "value" else [claim]
    try:
        trees = [parse_tree(p) for p in pieces]
        lhs = quantity_lhs(problem, q)
    except ParseError as exc:
        return [f"\\noindent (The claim could not be re-typeset: {escape_text(exc.reason)}.)\\par"]
    if len(trees) == 1:
        return [display(lhs, trees[0], label)]
    return [
        f"\\noindent {inline_math(lhs)}, the components given: " + ", ".join(inline_math(t) for t in trees) + ".\\par"
    ]


def submission_document(report, problem: Problem) -> str:
    """One submission's correct parts (normalised) and the parts still open, as a document."""
    name = Path(report.file).name
    lines = [
        f"% Generated by `symderiv grade --export-latex` for {latex_comment(report.file)}.",
        PREAMBLE.rstrip(),
        f"\\title{{{escape_text(problem.title or problem.id)}}}",
        (
            f"\\author{{{escape_text(report.student.label)}}}"
            if getattr(report, "student", None)
            else f"\\author{{\\texttt{{{escape_text(name)}}}}}"
        ),
        "\\date{}",
        "\\begin{document}",
        "\\maketitle",
        "",
    ]
    if report.error:
        lines += [f"\\noindent\\textbf{{Not graded:}} {escape_text(report.error)}\\par", "", "\\end{document}"]
        return "\n".join(lines) + "\n"
    lines.append(f"\\noindent Score: {report.score:g} of {report.max_score:g}.\\par")
    done = [p for p in report.parts if p.verdict in ("correct", "correct-up-to-layout")]
    still_open = [p for p in report.parts if p.verdict in OPEN_VERDICTS]
    with latex_style(layer_brackets=layer_brackets(problem), indicator="\\mathbf{1}"):
        lines += ["", "\\section*{Correct}"]
        if not done:
            lines.append("No part is correct yet.")
        for part in done:
            q = problem.quantity(part.quantity)
            lines += _part_display(problem, q, part.claim, eq_label("eq", problem.id, part.quantity))
            note = "correct" if part.verdict == "correct" else f"correct up to layout: {feedback_latex(part.feedback)}"
            where = f" (line {part.line})" if part.line else ""
            lines += [f"\\noindent{{\\small \\texttt{{{escape_text(part.quantity)}}}{where}: {note}}}", ""]
    lines += ["\\section*{Still open}"]
    if still_open:
        lines.append("\\begin{itemize}")
        lines += [
            f"  \\item \\texttt{{{escape_text(p.quantity)}}} ({escape_text(p.verdict)}): {feedback_latex(p.feedback)}"
            for p in still_open
        ]
        lines.append("\\end{itemize}")
    else:
        lines.append("Nothing: every part is correct.")
    lines += ["", "\\end{document}"]
    return "\n".join(lines) + "\n"


def export_submissions(reports, problem: Problem, out_dir) -> list[Path]:
    """Write one .tex per report into out_dir (created); returns the paths in report order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, used = [], set()
    for report in reports:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(report.file).stem).strip(".-")[:100] or "submission"
        name, k = stem, 1
        while name in used:
            k += 1
            name = f"{stem}-{k}"
        used.add(name)
        path = out_dir / f"{name}.tex"
        write_atomic(path, submission_document(report, problem))
        written.append(path)
    return written
