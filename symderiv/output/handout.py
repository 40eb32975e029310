r"""`symderiv export`: the solutions handout a course publishes, from its answer keys.

One ``\section`` per answer key: the problem (the key's own statement and a description of the
network generated from its declaration; a generic key's test activations are not part of it),
then the solution: for each quantity a sentence saying what it is, the key's worked steps as an
aligned chain and the result as a numbered equation. Every formula is typeset from its parsed
tree (``latex.to_latex``), never pasted. No problem id, quantity id or file name appears in the
body: how each result was verified (readings, errors, SymPy sizes, gradcheck), and what was left
out and why, is in the appendix ("Verification"), which ``evidence=False`` (``--no-evidence``)
leaves out. A quantity that ``verify`` did not prove is never typeset; with ``strict=True`` the
export is refused (SymderivError naming the file and the quantity).

    text, summary = export_document([Path("derivations/softmax-2layer.toml")])
    Path("solutions.tex").write_text(text)      # then: pdflatex solutions.tex
"""

from __future__ import annotations

from pathlib import Path

from symderiv.answerkey.problem import Problem, Quantity, layer_brackets, load_problem_file
from symderiv.core.errors import ParseError, SymderivError
from symderiv.core.tree import Compare, Num, Sym
from symderiv.grading.verify import QuantityResult, problem_gradcheck, verify_quantity
from symderiv.notation.latex import latex_style, to_latex
from symderiv.output.escape import latex_comment
from symderiv.output.export import (
    PREAMBLE,
    READINGS,
    display,
    eq_label,
    escape_text,
    inline_math,
    network_items,
    objective_symbol,
    parse_tree,
    quantity_lhs,
    sci_number,
    size_node,
)

__all__ = ["export_document", "problem_section", "how_verified", "worked_steps", "describe"]


def how_verified(problem: Problem, q: Quantity, r: QuantityResult) -> str:
    """The appendix line of a result: numeric (reading, error), symbolic (sizes), gradcheck."""
    sizes = ", ".join(inline_math(Compare(size_node(k), "=", Num(v))) for k, v in problem.symbolic_sizes)
    layers = "".join(f" for ${to_latex(Sym(name))} = {', '.join(map(str, vals))}$" for name, vals in q.layers)
    if q.kind == "value":
        return (
            f"verified on the given weights and input, numerically and exactly with SymPy "
            f"({escape_text(r.symbolic_detail)})."
        )
    numeric = READINGS.get(r.reading or "", escape_text(r.reading or ""))
    if r.numeric_max_rel_err is not None:
        numeric += f"; max.\\ relative error ${sci_number(r.numeric_max_rel_err)}$"
    return (
        f"verified{layers} numerically ({numeric}) and symbolically with SymPy on {sizes}; "
        f"backprop vs.\\ central differences: ${sci_number(r.gradcheck_max_rel_err)}$."
    )


def describe(problem: Problem, q: Quantity) -> str:
    """A sentence naming the quantity in words and the problem's notation."""
    if q.kind == "value":
        return f"The value of {inline_math(parse_tree(q.of))} for the given weights and input:"
    wrt = inline_math(parse_tree(q.wrt))
    if q.kind == "jacobian":
        return f"The Jacobian of {inline_math(parse_tree(q.of))} with respect to {wrt}:"
    entry = " entry by entry" if q.indices else ""
    layers = "".join(f", for every layer ${to_latex(Sym(name))}$" for name, _ in q.layers)
    return f"The derivative of {inline_math(objective_symbol(problem, q.of))} with respect to {wrt}{entry}{layers}:"


def _split_chain(step: str) -> list[str]:
    """A worked step `a = b = c` cut at its top-level = signs."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(step):
        depth += ch in "{([" and 1 or (-1 if ch in "})]" else 0)
        if ch == "=" and depth == 0 and step[i - 1 : i] not in ("\\", "<", ">", "!"):
            pieces.append(step[start:i])
            start = i + 1
    pieces.append(step[start:])
    return [p.strip().rstrip(",.") for p in pieces if p.strip()]


def worked_steps(q: Quantity) -> str:
    """The key's worked steps as an align* chain (each side re-typeset); "" when there are none or
    a side does not parse (then the result stands alone)."""
    rows = []
    for step in q.steps:
        try:
            sides = [to_latex(parse_tree(side)) for side in _split_chain(step)]
        except (ParseError, RecursionError):
            return ""
        if len(sides) < 2:
            continue
        rows.append(f"  {sides[0]} &= " + " \\\\\n  &= ".join(sides[1:]))
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}" if rows else ""


def _verify(problem: Problem, on_result) -> list[tuple[Quantity, QuantityResult | None, str]]:
    grad_err = problem_gradcheck(problem)
    out = []
    for q in problem.quantities:
        try:
            r = verify_quantity(problem, q, grad_err)
        except SymderivError as exc:  # a claim that cannot be read: not verified
            out.append((q, None, str(exc)))
            continue
        if on_result:
            on_result(r)
        out.append((q, r, "" if r.ok else r.message))
    return out


def problem_section(problem: Problem, verified, labels: set[str]) -> tuple[str, str, int, list[str]]:
    """(the body's section, its appendix entries, equations typeset, ids left out)."""
    body = [
        f"\\section{{{escape_text(problem.title or problem.id)}}}\\label{{{eq_label('sec', problem.id)}}}",
        "",
        "\\subsection*{Problem}",
    ]
    if problem.statement:
        body += [problem.statement, ""]
    if problem.shorthand is not None:  # a [network] key's layers; a [model] key's statement is its description
        body += ["\\noindent The network:", "\\begin{itemize}"]
        body += [f"  \\item {item}" for item in network_items(problem)]
        body += ["\\end{itemize}", ""]
    body += ["\\subsection*{Solution}"]
    appendix = [
        f"\\subsection*{{{escape_text(problem.title or problem.id)}}}",
        f"\\noindent Answer key \\texttt{{{escape_text(problem.id)}}} "
        f"(\\texttt{{{escape_text(Path(problem.path).name)}}}).",
        "\\begin{itemize}",
    ]
    count, left_out, notes = 0, [], []
    for q, r, reason in verified:
        if r is not None and r.ok:
            try:
                lhs, rhs, words = quantity_lhs(problem, q), parse_tree(q.claim), describe(problem, q)
            except ParseError as exc:
                reason = f"cannot be typeset: {exc}"
            else:
                label = eq_label("eq", problem.id, q.id)
                while label in labels:
                    label += "'"
                labels.add(label)
                steps = worked_steps(q)
                body += ["\\noindent " + words] + ([steps] if steps else []) + [display(lhs, rhs, label), ""]
                appendix.append(
                    f"  \\item Equation~\\eqref{{{label}}} (\\texttt{{{escape_text(q.id)}}}): "
                    f"{how_verified(problem, q, r)}"
                )
                count += 1
                continue
        left_out.append(q.id)
        notes.append(
            f"  \\item \\textbf{{Not verified:}} \\texttt{{{escape_text(q.id)}}} --- "
            f"{escape_text(reason or 'verification failed')}"
        )
    if not count:
        body.append("No result of this problem could be verified, so none is shown.")
    appendix += notes + ["\\end{itemize}", ""]
    return "\n".join(body) + "\n", "\n".join(appendix), count, left_out


def export_document(files, strict: bool = False, *, on_result=None, evidence: bool = True) -> tuple[str, str]:
    """(LaTeX document, one-line summary) of the verified quantities of `files`.

    strict: raise SymderivError at the first quantity that is not verified.
    on_result: called with each QuantityResult as it is verified.
    evidence: add the appendix saying how each result was verified and what was left out.
    """
    files = [Path(f) for f in files]
    if not files:
        raise SymderivError("no derivation files to export")
    sections, appendix, labels, total, exported, left_out = [], [], set(), 0, 0, []
    for path in files:
        problem = load_problem_file(path)
        verified = _verify(problem, on_result)
        for q, r, reason in verified:
            if strict and not (r is not None and r.ok):
                raise SymderivError(
                    f"{path}:{q.line}: quantity {q.id!r} is not verified ({reason}); "
                    f"--strict exports only verified results"
                )
        with latex_style(layer_brackets=layer_brackets(problem), indicator="\\mathbf{1}"):
            text, evidence_text, count, missing = problem_section(problem, verified, labels)
        if strict and missing:
            raise SymderivError(f"{path}: quantity {missing[0]!r} cannot be typeset; --strict refuses")
        sections.append(text)
        appendix.append(evidence_text)
        total += len(problem.quantities)
        exported += count
        left_out += [f"{problem.id}:{m}" for m in missing]
    noun = "file" if len(files) == 1 else "files"
    summary = f"{exported} of {total} quantities exported from {len(files)} derivation {noun}"
    if left_out:
        summary += f"; left out (not verified): {', '.join(left_out)}"
    sources = ", ".join(str(f) for f in files)
    head = (
        f"% Generated by `symderiv export` from {latex_comment(sources)}.\n"
        f"% {exported} numbered equations: each was verified by `symderiv verify`.\n"
    )
    body = "\n".join(sections)
    if evidence:
        body += (
            "\n\\appendix\n\\section*{Verification}\n\\noindent Every numbered result was checked by "
            "\\texttt{symderiv verify} against ground truth computed from the network's declaration: "
            "numerically at random points (and backpropagation against central differences) and "
            "symbolically with SymPy on small explicit matrices.\n\n" + "\n".join(appendix)
        )
    title = (
        "Backpropagation: solutions"
        if len(files) > 1
        else f"{escape_text(load_problem_file(files[0]).title or 'Backpropagation')}: solutions"
    )
    doc = (
        head + PREAMBLE + f"\\title{{{title}}}\n\\date{{}}\n"
        "\\begin{document}\n\\maketitle\n\n" + body + "\n\\end{document}\n"
    )
    return doc, summary
