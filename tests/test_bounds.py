"""Issue 10: every stage bounded. The hostile inputs of the issue get a verdict (or a file's
entry) with a reason, never a hang, an exception or a literal loop over a huge range."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.grading.grade import grade_text
from symderiv.judging import exact
from symderiv.judging.check import check_claim
from symderiv.reading.extract import extract

ROOT = Path(__file__).resolve().parent.parent
BIG = "1" * 400
NESTED = r"\sum_k w_{jk}^{(l+1)}\delta_k^{(l+1)} g_l'(z_j^{(l)})"
TRUTH = r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)"


@pytest.mark.parametrize(
    "problem, quantity, claim, verdict, words",
    [
        pytest.param(
            "softmax-2layer",
            "dJ/dz3",
            rf"\sum_{{k=1}}^{{10^{{9}}}} {TRUTH}",
            "incorrect",
            "1e+09 times",
            id="sum-to-10^9-without-a-loop",
        ),
        pytest.param("softmax-2layer", "dJ/dz3", r"\sum_{k=1}^{0} 1", "incorrect", "no terms", id="empty-sum"),
        pytest.param(
            "softmax-2layer", "dJ/dz3", r"\sum_{k=5}^{2} \Delta", "incorrect", "no terms", id="reversed-range"
        ),
        pytest.param(
            "softmax-2layer",
            "dJ/dz3",
            rf"\sum_{{k=1}}^{{10^{{20}}}} {TRUTH}",
            "incorrect",
            "terms",
            id="sum-over-10^20-terms",
        ),
        pytest.param("softmax-2layer", "dJ/dz3", rf"\sum_{{k=1}}^{{1}} {TRUTH}", "correct", "Correct", id="one-term"),
        pytest.param("softmax-2layer", "dJ/dz3", BIG, "unparseable", "more than 30 digits", id="400-digit-value"),
        pytest.param(
            "softmax-2layer", "dJ/dz3", rf"\psi(z^{{{BIG}}}) - \Delta", "unparseable", "digits", id="400-digit-layer"
        ),
        pytest.param(
            "softmax-2layer",
            "dJ/dz3",
            rf"\sum_{{k=1}}^{{{BIG}}} {TRUTH}",
            "unparseable",
            "digits",
            id="400-digit-bound",
        ),
        pytest.param(
            "softmax-2layer", "dJ/db2", r"\mathbf{1}_{10^{9}}", "incorrect", "ones vector", id="ones-vector-of-10^9"
        ),
        # six copies of the sum, multiplied: quick now (43 s before), and the diagnosis names the extra factors
        pytest.param("mlp-general", "delta-l", NESTED * 6, "incorrect", "extra factor", id="six-nested-sums"),
        pytest.param("mlp-general", "delta-l", NESTED, "correct", "Correct", id="one-sum"),
        pytest.param(
            "sigmoid-bce-1hidden",
            "dJ/dw2",
            r"\sum_k (\sum_k (\sum_{i=1}^{N}\sum_{j=1}^{N}\sum_{k=1}^{N} a_i a_j a_k))",
            "incorrect",
            "nested too deeply",
            id="nested-sample-sums",
        ),
    ],
)
def test_hostile_claims_get_a_verdict_with_a_reason(problem, quantity, claim, verdict, words):
    v = check_claim(problem, quantity, claim, symbolic=False)
    assert v.verdict == verdict and words in v.feedback, v.feedback


def test_an_internal_error_is_a_verdict_naming_it(monkeypatch):
    from symderiv.judging import check

    def broken(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'T'")

    monkeypatch.setattr(check, "judge", broken)
    v = check_claim("softmax-2layer", "dJ/dz3", TRUTH)
    assert (v.verdict, v.accepted) == ("undecided", False) and "AttributeError" in v.review


HANGING_FILE = r"$$\frac{\partial J}{\partial z^{(3)}} = \sum_{k=1}^{10^{9}} \frac{1}{N}(\psi(z^{(3)}) - \Delta)$$"


@pytest.mark.parametrize(
    "text, quantity, verdict",
    [
        pytest.param(HANGING_FILE, "dJ/dz3", "incorrect", id="the-98-byte-file"),
        pytest.param(
            rf"$$\frac{{\partial J}}{{\partial z^{{(3)}}}} = \psi(z^{{{BIG}}}) - \Delta$$",
            "dJ/dz3",
            "unparseable",
            id="400-digit-layer-in-grade",
        ),
    ],
)
def test_hostile_files_grade(text, quantity, verdict):
    report = grade_text(text, "softmax-2layer")
    assert {p.quantity: p.verdict for p in report.parts}[quantity] == verdict


NAMES = [
    "E",
    "F",
    "G",
    "K",
    "M",
    "P",
    "Q",
    "R",
    "S",
    "U",
    "V",
    "O",
    r"\Omega",
    r"\Theta",
    r"\Phi",
    r"\Gamma",
    r"\Pi",
    r"\Upsilon",
    r"\Xi",
    r"\mu",
    r"\nu",
    r"\rho",
    r"\tau",
    r"\kappa",
]


def _doubling_definitions(count: int) -> str:
    lines = [rf"Let ${NAMES[0]} = \psi(z^{{(3)}}) - \Delta$."]
    lines += [f"Let ${b} = {a} + {a}$." for a, b in zip(NAMES[:count], NAMES[1:count])]
    return (
        "\n\n".join(lines) + rf"\n\n$$\frac{{\partial J}}{{\partial z^{{(3)}}}} = \frac{{1}}{{N}} {NAMES[count - 1]}$$"
    )


@pytest.mark.parametrize(
    "count, verdict, words",
    [
        pytest.param(1, "correct", "Correct", id="one-definition"),
        pytest.param(2, "incorrect", "2", id="doubled-once"),
        pytest.param(24, "unparseable", "more than 5000 terms", id="24-doublings"),
    ],
)
def test_repeated_expansion_of_definitions_is_bounded(count, verdict, words):
    part = grade_text(_doubling_definitions(count), "softmax-2layer").parts[0]
    assert (part.quantity, part.verdict) == ("dJ/dz3", verdict) and words in part.feedback, part.feedback


@pytest.mark.parametrize("lines", [2000, 8000])
def test_extraction_of_many_leading_relations(lines):
    text = "$$\n" + r"\frac{\partial J}{\partial z^{(3)}}" + "\n" + (rf"= {TRUTH}" + "\n") * lines + "$$\n"
    assert len(extract(text)) == lines + 1


def _busy():
    while True:
        pass


LOADED_CLAIMS = [
    (TRUTH, "equal"),
    (TRUTH + r" + 10^{-20}", "different"),
    (r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)^{T}", None),
]


def test_verdicts_do_not_depend_on_load(monkeypatch):
    """Two CPU-bound processes beside the check: the exact check measures its own CPU time."""
    monkeypatch.setenv("SYMDERIV_CACHE", "0")
    exact._MEMO.clear()
    context = multiprocessing.get_context("fork")
    hogs = [context.Process(target=_busy, daemon=True) for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        verdicts = [check_claim("softmax-2layer", "dJ/dz3", c) for c, _ in LOADED_CLAIMS]
    finally:
        for hog in hogs:
            hog.kill()
            hog.join()
    for v, (_, status) in zip(verdicts, LOADED_CLAIMS):
        assert v.symbolic.status not in ("timeout", "error")
        if status:
            assert v.symbolic.status == status
    assert [v.verdict for v in verdicts][:2] == ["correct", "incorrect"]


def test_the_hanging_file_through_the_command(tmp_path):
    (tmp_path / "hang.md").write_text(HANGING_FILE)
    (tmp_path / "good.md").write_text(rf"$$\frac{{\partial J}}{{\partial z^{{(3)}}}} = {TRUTH}$$")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SYMDERIV_CACHE="0")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "symderiv.cli",
            "grade",
            "--key",
            "softmax-2layer",
            "--jsonl",
            "--no-symbolic",
            "--timeout",
            "120",
            str(tmp_path / "hang.md"),
            str(tmp_path / "good.md"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert len(done.stdout.splitlines()) == 2 and "Traceback" not in done.stderr
