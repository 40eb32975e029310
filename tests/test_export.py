r"""`symderiv export` and `grade --export-latex`: the documents, what they leave out, and pdflatex.

The full export of the shipped derivations is made once per module (it verifies every
quantity: about a minute, most of it SymPy time limits). The compile tests need pdflatex;
they skip where it is missing (CI installs it: .ci/run, texlive-latex-base and
texlive-latex-recommended).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from symderiv.answerkey.problem import derivation_files, derivations_dir, load_problem, load_problem_file
from symderiv.cli import main
from symderiv.core.errors import SymderivError
from symderiv.grading.results import Part, Report
from symderiv.notation.latex import latex_style, to_latex
from symderiv.notation.parse import parse, parse_lenient
from symderiv.output.export import (
    escape_text,
    export_submissions,
    layer_brackets,
    network_items,
    quantity_lhs,
)
from symderiv.output.handout import export_document

DISPLAY = re.compile(r"\\begin\{equation\}\\label\{(?P<label>[^}]*)\}\n  (?P<body>.*?)\n\\end\{equation\}", re.S)
NEEDS_PDFLATEX = (
    "pdflatex is not installed here; CI installs it (.ci/run: apt-get install "
    "texlive-latex-base texlive-latex-recommended)"
)


def displays(text: str) -> dict[str, tuple[str, str]]:
    """label -> (left side, right side) of every numbered display."""
    out = {}
    for m in DISPLAY.finditer(text):
        lhs, rhs = m.group("body").split(" = ", 1)
        out[m.group("label")] = (lhs, rhs)
    return out


def pdflatex(tex: Path) -> str:
    """Compile twice (labels settle); assert success; return the log."""
    if shutil.which("pdflatex") is None:
        pytest.skip(NEEDS_PDFLATEX)
    for _ in range(2):
        run = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
            cwd=tex.parent,
            capture_output=True,
            text=True,
            timeout=300,
        )
        log = tex.with_suffix(".log").read_text(encoding="latin-1")
        errors = [line for line in log.splitlines() if line.startswith("! ")]
        assert run.returncode == 0 and not errors, errors or run.stdout[-2000:]
    pdf = tex.with_suffix(".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000
    return log


# ---- the shipped derivations ------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_export():
    """(text, summary, {(problem, quantity): QuantityResult}) of all of derivations/."""
    results = {}
    text, summary = export_document(
        derivation_files(), on_result=lambda r: results.__setitem__((r.problem, r.quantity), r)
    )
    return text, summary, results


ALL_QUANTITIES = [
    pytest.param(p, q, id=f"{p.id}:{q.id}") for p in map(load_problem_file, derivation_files()) for q in p.quantities
]


@pytest.mark.parametrize("problem, q", ALL_QUANTITIES)
def test_each_quantity_is_an_equation_if_verified_else_a_note(full_export, problem, q):
    text, _, results = full_export
    shown = displays(text)
    label = f"eq:{problem.id}:{q.id}"
    r = results.get((problem.id, q.id))
    note = f"\\textbf{{Not verified:}} \\texttt{{{escape_text(q.id)}}} ---"
    if r is not None and r.ok:
        lhs, rhs = shown[label]
        assert parse(lhs) == quantity_lhs(problem, q)
        assert parse(rhs) == parse_lenient(q.claim).tree  # the claim, re-typeset from its tree
        assert note not in text
    else:
        assert label not in shown
        assert note in text


def test_summary_counts_the_equations(full_export):
    text, summary, results = full_export
    verified = sum(r.ok for r in results.values())
    total = sum(len(load_problem_file(f).quantities) for f in derivation_files())
    assert summary.startswith(
        f"{verified} of {total} quantities exported from {len(derivation_files())} derivation files"
    )
    assert len(displays(text)) == text.count("\\begin{equation}") == verified
    for (problem, quantity), r in results.items():
        assert (f"{problem}:{quantity}" in summary) == (not r.ok)


def test_each_file_is_a_section_with_statement_and_network(full_export):
    text = full_export[0]
    for path in derivation_files():
        problem = load_problem_file(path)
        section = text.split(f"\\label{{sec:{problem.id}}}", 1)[1].split("\\section{", 1)[0]
        assert problem.statement in section  # the course's own LaTeX, as is
        with latex_style(layer_brackets=layer_brackets(problem), indicator="\\mathbf{1}"):
            for item in network_items(problem) if problem.model is None else ():  # [model] keys: the statement
                assert item in section
    assert text.count("\\section{") == len(derivation_files())


def test_exported_document_compiles_with_the_expected_equations(full_export, tmp_path):
    text, _, results = full_export
    tex = tmp_path / "solutions.tex"
    tex.write_text(text, encoding="utf-8")
    log = pdflatex(tex)
    verified = sum(r.ok for r in results.values())
    aux = tex.with_suffix(".aux").read_text(encoding="latin-1")
    numbers = [int(n) for n in re.findall(r"\\newlabel\{eq:[^}]*\}\{\{(\d+)\}", aux)]
    assert sorted(numbers) == list(range(1, verified + 1))  # every equation was typeset, numbered once
    assert "Output written on solutions.pdf" in log
    assert set(re.findall(r"\\usepackage\{([^}]*)\}", text)) == {"amsmath", "amssymb", "bm"}


# ---- left-hand sides and notation ----------------------------------------------------------------

LHS = [
    ("softmax-2layer", "dJt/dW2", r"\frac{\partial \tilde{J}}{\partial W^{(2)}}"),
    ("softmax-2layer", "dJ/dz3", r"\frac{\partial J}{\partial z^{(3)}}"),
    ("softmax-2layer", "softmax-jacobian", r"\frac{\partial a_{i}^{(3)}}{\partial z_{j}^{(3)}}"),
    ("sigmoid-bce-1hidden", "da2/dz2", r"\frac{\partial a^{[2]}}{\partial z^{[2]}}"),
    ("sigmoid-bce-1hidden", "dL/dW1", r"\frac{\partial L}{\partial W^{[1]}}"),
    ("sigmoid-bce-1hidden", "z1", r"z^{[1]}"),
    ("mlp-general", "dC/dw", r"\frac{\partial C}{\partial w_{ij}^{(l)}}"),
    ("mlp-general", "delta-L", r"\frac{\partial C}{\partial z_{j}^{(L)}}"),
]


@pytest.mark.parametrize("problem_id, qid, expected", LHS, ids=[f"{p}:{q}" for p, q, _ in LHS])
def test_left_hand_side_in_the_problems_notation(problem_id, qid, expected):
    problem = load_problem(problem_id)
    with latex_style(layer_brackets=layer_brackets(problem)):
        assert to_latex(quantity_lhs(problem, problem.quantity(qid))) == expected


NETWORK = [
    ("softmax-2layer", r"$z^{(2)} = W^{(1)} a^{(1)} + b^{(1)}$, $a^{(2)} = \phi\left(z^{(2)}\right)$, ReLU; $H$ units"),
    (
        "softmax-2layer",
        r"$\tilde{J} = J + \lambda \left(\left\|W^{(1)}\right\|_{F}^{2} + \left\|W^{(2)}\right\|_{F}^{2}\right)$",
    ),
    ("softmax-2layer", r"$W^{(l)}$ maps $a^{(l)}$ to $z^{(l + 1)}$"),
    ("sigmoid-bce-1hidden", r"$z^{[2]} = w^{[2]} a^{[1]} + b^{[2]}$, $a^{[2]} = \sigma\left(z^{[2]}\right)$"),
    ("sigmoid-bce-1hidden", r"$a^{[1]} = \operatorname{ReLU}\left(z^{[1]}\right)$; $H$ units"),
    ("sigmoid-bce-1hidden", r"$1$ unit."),
    ("mlp-general", r"$z_{j}^{(2)} = \sum_{i} a_{i}^{(1)} w_{ij}^{(2)} + b_{j}^{(2)}$"),
    ("mlp-general", r"$a_{j}^{(3)} = g_{3}\left(z_{j}^{(3)}\right)$; $n_{3}$ units"),  # g generic: no test activation
]


def test_a_generic_keys_test_activations_are_not_part_of_the_problem():
    items = " ".join(network_items(load_problem("mlp-general")))
    assert not any(name in items for name in ("tanh", "softplus", "sigmoid"))


@pytest.mark.parametrize("problem_id, fragment", NETWORK, ids=[f"{p}:{k}" for k, (p, _) in enumerate(NETWORK)])
def test_network_description_is_generated_from_the_problem(problem_id, fragment):
    problem = load_problem(problem_id)
    with latex_style(layer_brackets=layer_brackets(problem)):
        items = network_items(problem)
    assert any(fragment in item for item in items), items
    for item in items:  # every formula in it reads back
        for formula in re.findall(r"\$([^$]+)\$", item):
            for side in formula.split(" = "):
                parse(side)


ESCAPES = [
    ("plain", "Two-layer network", "Two-layer network"),
    ("specials", r"a & b % c $ d # e _ f { g }", r"a \& b \% c \$ d \# e \_ f \{ g \}"),
    ("tilde caret backslash", r"~x^2 \frac", r"\textasciitilde{}x\textasciicircum{}2 \textbackslash{}frac"),
    ("angle brackets and bar", "<x|y>", "$<$x$|$y$>$"),
    ("unicode minus", "claim − truth", "claim - truth"),
    ("greek and norms", "λ‖W‖²", r"$\lambda$$\|$W$\|$$^2$"),
    ("capital greek", "Δ", r"$\Delta$"),
    ("accented", "Müller", "Muller"),
    ("unknown symbol", "☃", "?"),
    ("newline", "a\nb", "a b"),
]


@pytest.mark.parametrize("text, expected", [r[1:] for r in ESCAPES], ids=[r[0] for r in ESCAPES])
def test_escape_text(text, expected):
    assert escape_text(text) == expected


@pytest.mark.parametrize(
    "problem_id, brackets", [("softmax-2layer", "()"), ("sigmoid-bce-1hidden", "[]"), ("mlp-general", "()")]
)
def test_layer_brackets_follow_the_problem(problem_id, brackets):
    assert layer_brackets(load_problem(problem_id)) == brackets


# ---- a derivation file with a wrong claim ----------------------------------------------------------

WRONG_TITLE = r"Signs & 100% of $x$_1 #2 {a} ~b^c \ — λ test"
KEPT = ("dJ/dz3", "dJ/dW2", "dJt/dW2")


@pytest.fixture(scope="module")
def wrong_file(tmp_path_factory):
    """softmax-2layer with three quantities, the sign of dJ/dW2's claim flipped, a hostile title."""
    text = (derivations_dir() / "softmax-2layer.toml").read_text(encoding="utf-8")
    head, *blocks = text.split("[[quantity]]")
    head = re.sub(r'title = ".*"', f"title = '{WRONG_TITLE}'", head)
    kept = [b for b in blocks if re.search(r'id = "(.*?)"', b).group(1) in KEPT]
    kept = [b.split("[grading]")[0] for b in kept]
    wrong = [
        b.replace(r"(\psi(Z^{(3)}) - \Delta)", r"(\Delta - \psi(Z^{(3)}))") if 'id = "dJ/dW2"' in b else b for b in kept
    ]
    assert wrong != kept
    path = tmp_path_factory.mktemp("wrong") / "softmax-wrong-sign.toml"
    path.write_text(head + "".join("[[quantity]]" + b for b in wrong), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def wrong_export(wrong_file):
    return export_document([wrong_file])


def test_wrong_claim_is_left_out_with_a_note(wrong_export):
    text, summary = wrong_export
    shown = displays(text)
    assert set(shown) == {"eq:softmax-2layer:dJ/dz3", "eq:softmax-2layer:dJt/dW2"}
    assert "\\textbf{Not verified:} \\texttt{dJ/dW2} --- numerically incorrect" in text
    assert r"\Delta - \psi" not in text  # the wrong claim is not typeset
    assert (
        summary == "2 of 3 quantities exported from 1 derivation file; left out (not verified): softmax-2layer:dJ/dW2"
    )
    assert f"\\section{{{escape_text(WRONG_TITLE)}}}" in text


def test_wrong_claim_document_compiles(wrong_export, tmp_path):
    tex = tmp_path / "wrong.tex"
    tex.write_text(wrong_export[0], encoding="utf-8")
    pdflatex(tex)
    assert re.findall(r"\\newlabel\{eq:[^}]*\}\{\{(\d+)\}", tex.with_suffix(".aux").read_text()) == ["1", "2"]


def test_strict_refuses_naming_file_and_quantity(wrong_file):
    with pytest.raises(SymderivError) as info:
        export_document([wrong_file], strict=True)
    message = str(info.value)
    assert str(wrong_file) in message and "'dJ/dW2'" in message and "--strict" in message


@pytest.mark.parametrize("strict, code, written", [(False, 0, True), (True, 1, False)], ids=["default", "strict"])
def test_cli_export(wrong_file, tmp_path, capsys, strict, code, written):
    out = tmp_path / "out.tex"
    assert main(["export", str(wrong_file), "-o", str(out)] + ["--strict"] * strict) == code
    assert out.exists() == written
    captured = capsys.readouterr()
    if written:
        assert "2 of 3 quantities exported" in captured.out
        assert out.read_text(encoding="utf-8").count("\\begin{equation}") == 2
    else:
        assert "dJ/dW2" in captured.err


def test_no_files_is_an_error():
    with pytest.raises(SymderivError, match="no derivation files"):
        export_document([])


# ---- per submission ----------------------------------------------------------------------------


def part(quantity, verdict, claim="", feedback="", line=3):
    points = {"correct": 1.0, "correct-up-to-layout": 0.75}.get(verdict, 0.0)
    return Part(quantity, verdict, claim, None if verdict == "missing" else line, feedback, points, 1.0)


SOFTMAX_PARTS = (
    part("dJ/dz3", "correct", r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)"),
    part(
        "dJt/dW2",
        "correct-up-to-layout",
        r"\frac{1}{N} a^{(2)} (\psi(z^{(3)}) - \Delta)^T + 2\lambda W^{(2)T}",
        "Right up to layout (samples as rows): transpose the whole expression.",
    ),
    part("dJt/dW1", "incorrect", r"W^{(2)T} \odot \phi'(z^{(2)})", "Wrong."),
    part("dJ/db1", "unparseable", r"\frac{\delta^{(2)}}{", "Line 9 cannot be read."),
    part("dJ/db2", "missing"),
)


def report(file, parts, problem="softmax-2layer"):
    return Report(
        file=file, problem=problem, score=sum(p.points for p in parts), max_score=float(len(parts)), parts=parts
    )


@pytest.fixture
def written(tmp_path):
    problem = load_problem("softmax-2layer")
    reports = [
        report("class/alice.txt", SOFTMAX_PARTS),
        report("other/alice.md", tuple(part(p.quantity, "missing") for p in SOFTMAX_PARTS)),
        Report(
            file="class/empty.txt",
            problem="softmax-2layer",
            score=0.0,
            max_score=0.0,
            error="class/empty.txt: the file is empty <nothing to grade>",
        ),
    ]
    return export_submissions(reports, problem, tmp_path / "latex")


def test_one_file_per_submission(written, tmp_path):
    assert [p.name for p in written] == ["alice.tex", "alice-2.tex", "empty.tex"]
    assert all(p.parent == tmp_path / "latex" and p.exists() for p in written)


def test_correct_parts_are_typeset_normalised(written):
    text = written[0].read_text(encoding="utf-8")
    shown = displays(text)
    assert set(shown) == {"eq:softmax-2layer:dJ/dz3", "eq:softmax-2layer:dJt/dW2"}
    lhs, rhs = shown["eq:softmax-2layer:dJ/dz3"]
    assert lhs == r"\frac{\partial J}{\partial z^{(3)}}"
    assert rhs == r"\frac{1}{N} \left(\psi\left(z^{(3)}\right) - \Delta\right)"  # re-printed, not pasted
    assert parse(rhs) == parse(SOFTMAX_PARTS[0].claim)
    assert parse(shown["eq:softmax-2layer:dJt/dW2"][1]) == parse(SOFTMAX_PARTS[1].claim)
    assert "correct up to layout: Right up to layout (samples as rows): transpose the whole expression." in text


@pytest.mark.parametrize(
    "quantity, verdict", [("dJt/dW1", "incorrect"), ("dJ/db1", "unparseable"), ("dJ/db2", "missing")]
)
def test_open_parts_are_listed_by_name_only(written, quantity, verdict):
    text = written[0].read_text(encoding="utf-8")
    still_open = text.split("\\section*{Still open}", 1)[1]
    assert f"\\item \\texttt{{{quantity}}} ({verdict})" in still_open
    claim = next(p.claim for p in SOFTMAX_PARTS if p.quantity == quantity)
    assert not claim or claim not in text


def test_submission_with_nothing_correct_and_ungradable_submission(written):
    nothing = written[1].read_text(encoding="utf-8")
    assert "No part is correct yet." in nothing and "\\begin{equation}" not in nothing
    error = written[2].read_text(encoding="utf-8")
    assert "\\textbf{Not graded:} class/empty.txt: the file is empty $<$nothing to grade$>$" in error


def test_value_parts(tmp_path):
    problem = load_problem("sigmoid-bce-1hidden")
    parts = (part("z1", "correct", "-70; 50"), part("z2", "correct", "10"), part("a1", "incorrect", "1"))
    (path,) = export_submissions([report("bob.txt", parts, problem.id)], problem, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert displays(text) == {"eq:sigmoid-bce-1hidden:z2": ("z^{[2]}", "10")}
    assert r"$z^{[1]}$, the components given: $-70$, $50$." in text


def test_submission_documents_compile(written):
    for path in written:
        pdflatex(path)


# ---- the handout: what a course publishes ---------------------------------------------------------


def test_handout_body_has_no_ids_or_file_names_and_evidence_is_in_the_appendix(full_export):
    text = full_export[0]
    body, appendix = text.split("\\begin{document}", 1)[1].split("\\appendix", 1)  # the % header may name files
    for path in derivation_files():
        problem = load_problem_file(path)
        assert path.name not in body
        assert f"\\texttt{{{escape_text(problem.id)}}}" not in body
        for q in problem.quantities:
            assert f"\\texttt{{{escape_text(q.id)}}}" not in body
        assert path.name in appendix
    assert "central differences" in appendix and "central differences" not in body
    assert "\\subsection*{Solution}" in body and "The derivative of" in body


def test_handout_has_the_keys_worked_steps(full_export):
    text = full_export[0]
    section = text.split("\\label{sec:softmax-2layer}", 1)[1].split("\\section{", 1)[0]
    steps = section.split("\\begin{align*}", 1)[1].split("\\end{align*}", 1)[0]
    assert "\\frac{\\partial J}{\\partial z^{(3)}} &= \\frac{1}{N}" in steps


def test_handout_without_evidence(tmp_path):
    text, _ = export_document([derivations_dir() / "softmax-2layer.toml"], evidence=False)
    assert "\\appendix" not in text and "central differences" not in text
    assert text.count("\\begin{equation}") == len(load_problem("softmax-2layer").quantities)
