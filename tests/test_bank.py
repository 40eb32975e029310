r"""The problem bank: six shipped keys (ids and quantity ids fixed by ../shared/problems.md) verify
both ways; deliberately wrong copies are rejected naming the quantity; and for each problem one
right submission, in another layout or notation than its key, and one with planted mistakes
grade as a TA would.

The submissions are in ``fixtures/bank/``. The wrong keys are built here from the real key's
text by one replacement, so an edit to a key that removes the replaced text fails loudly.
The independent NumPy cross-check of the engine is ``test_bank_oracle.py``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from bank_oracle import PENDING

from symderiv.answerkey.problem import load_problem_file
from symderiv.grading.grade import GradeConfig, grade_text
from symderiv.grading.verify import verify_file
from symderiv.judging.check import check_claim

ROOT = Path(__file__).resolve().parent.parent
KEYS = ROOT / "derivations"
FIXTURES = Path(__file__).parent / "fixtures" / "bank"
ACCEPT = {"correct", "correct-up-to-layout"}

BANK = {  # problems.md, "The problem bank": id -> graded quantity ids
    "linreg-mse": ["dJ/dw", "dJ/db"],
    "svm-hinge": ["dJ/dW", "dJt/dW"],
    "word2vec-naive-softmax": ["dJ/dvc", "dJ/du", "dJ/dU"],
    "batchnorm": ["dL/dgamma", "dL/dbeta", "dL/dX"],
    "rnn-2step": ["dJ/dV", "dJ/dh2", "dJ/dh1", "dJ/dW"],
    "leaky-relu-mlp": ["dJ/dz2", "dJ/dW1", "dJ/db1"],
}


# Grading gaps of shipped keys: rows whose expected verdict is right but the grader is not there yet
# (d(tilde J)/dW and dY are read since the [model] identify and word aliases).
# Quantities of shipped keys that the key does not declare yet.
NOT_DECLARED: dict[tuple[str, str], str] = {}


def xfail(*values, reason: str, id: str):
    return pytest.param(*values, id=id, marks=pytest.mark.xfail(reason=reason, strict=True))


def pending(pid: str, *rest, id: str):
    """A row (pid, *rest) about a bank key: an expected failure while that key is pending."""
    if pid in PENDING:
        return xfail(pid, *rest, reason=f"{pid} not shipped: {PENDING[pid]}", id=id)
    return pytest.param(pid, *rest, id=id)


# ======================================================================= 1. the keys verify both ways


@cache
def verified(pid: str):
    return {r.quantity: r for r in verify_file(KEYS / f"{pid}.toml")}


def _quantity_row(pid, qid):
    if (pid, qid) in NOT_DECLARED:
        return xfail(pid, qid, reason=NOT_DECLARED[pid, qid], id=f"{pid}:{qid}")
    return pending(pid, qid, id=f"{pid}:{qid}")


@pytest.mark.parametrize("pid, qid", [_quantity_row(pid, qid) for pid, qids in BANK.items() for qid in qids])
def test_bank_quantity_verifies_both_ways(pid, qid):
    r = verified(pid)[qid]
    assert r.ok and r.numeric and r.symbolic, r.message
    assert r.gradcheck_max_rel_err <= 1e-7


@pytest.mark.parametrize("pid", [pending(pid, id=pid) for pid in BANK])
def test_bank_key_declares_nothing_that_fails(pid):
    assert all(r.ok for r in verified(pid).values()), {q: r.message for q, r in verified(pid).items() if not r.ok}


# ======================================================================= 2. wrong keys are rejected

WRONG_KEYS = [
    # (key, old text, new text, quantity that must fail, words in the message)
    pending(
        "linreg-mse",
        r"claim = '\frac{1}{N} X^T (X w",
        r"claim = '\frac{2}{N} X^T (X w",
        "dJ/dw",
        "2 times",
        id="linreg-factor-2",
    ),
    pending(
        "linreg-mse",
        r"claim = '\frac{1}{N} \mathbf{1}_N^T (X w + b \mathbf{1}_N - y)'",
        r"claim = '\frac{1}{N} \mathbf{1}_N^T (y - X w - b \mathbf{1}_N)'",
        "dJ/db",
        "sign",
        id="linreg-sign",
    ),
    pending(
        "svm-hinge",
        r"X^T + 2\lambda W'",
        r"X^T + \lambda W'",
        "dJt/dW",
        r"2\lambda W, not \lambda W",
        id="svm-lambda-not-2lambda",
    ),
    pending(
        "svm-hinge",
        r"claim = '\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T'",
        r"claim = '\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right) X^T'",
        "dJ/dW",
        "symbolically different",
        id="svm-missing-correct-class-term",
    ),
    pending(
        "word2vec-naive-softmax",
        r"(\hat y_o - 1) v_c & w = o",
        r"\hat y_o v_c & w = o",
        "dJ/du",
        "symbolically different",
        id="word2vec-case-w=o",
    ),
    pending(
        "word2vec-naive-softmax",
        r"claim = 'U(\hat y - y)'",
        r"claim = 'U(y - \hat y)'",
        "dJ/dvc",
        "sign",
        id="word2vec-sign",
    ),
    pending(
        "batchnorm",
        r" - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)'",
        r"\right)'",
        "dL/dX",
        "symbolically different",
        id="batchnorm-missing-variance-path",
    ),
    pending(
        "batchnorm",
        r"claim = '(G \odot \hat X)^T \mathbf{1}_N'",
        r"claim = 'G^T \mathbf{1}_N'",
        "dL/dgamma",
        "symbolically different",
        id="batchnorm-gamma-without-xhat",
    ),
    pending(
        "rnn-2step",
        r"claim = 'W^T \left((\mathbf{1}_H - h_2 \odot h_2) \odot V^T (\hat y - y)\right)'",
        r"claim = 'W^T V^T (\hat y - y)'",
        "dJ/dh1",
        "symbolically different",
        id="rnn-missing-tanh-derivative",
    ),
    pending(
        "rnn-2step",
        r"\right)\right) h_0^T'",
        r"\right)\right) h_1^T'",
        "dJ/dW",
        "symbolically different",
        id="rnn-wrong-time-step",
    ),
    pending(
        "leaky-relu-mlp",
        r"\Delta) \odot \left(\mathbb{1}[Z^{(2)} > 0] + \alpha\,\mathbb{1}[Z^{(2)} \le 0]\right)'",
        r"\Delta) \odot \mathbb{1}[Z^{(2)} > 0]'",
        "dJ/dz2",
        "symbolically different",
        id="leaky-relu-derivative-of-relu",
    ),
    pending(
        "leaky-relu-mlp",
        r"claim = '\left(\frac{1}{N} W^{(2)T}(\psi(Z^{(3)}) - \Delta) \odot \left(\mathbb{1}[Z^{(2)} > 0] + \alpha\,\mathbb{1}[Z^{(2)} \le 0]\right)\right) \mathbf{1}_N'",
        r"claim = '\left(W^{(2)T}(\psi(Z^{(3)}) - \Delta) \odot \left(\mathbb{1}[Z^{(2)} > 0] + \alpha\,\mathbb{1}[Z^{(2)} \le 0]\right)\right) \mathbf{1}_N'",
        "dJ/db1",
        "1/N",
        id="leaky-missing-1/N",
    ),
]


@pytest.mark.parametrize("pid, old, new, quantity, words", WRONG_KEYS)
def test_wrong_bank_key_is_rejected_naming_the_quantity(tmp_path, pid, old, new, quantity, words):
    text = (KEYS / f"{pid}.toml").read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{pid}: the text to alter is not in the key exactly once: {old}"
    bad = tmp_path / f"{pid}.toml"
    bad.write_text(text.replace(old, new), encoding="utf-8")
    results = {r.quantity: r for r in verify_file(bad)}
    assert not results[quantity].ok
    assert words in results[quantity].message, results[quantity].message
    assert [q for q, r in results.items() if not r.ok] == [quantity]


# ======================================================================= 3. submissions


@cache
def graded(name: str, pid: str) -> dict:
    path = FIXTURES / name
    problem = load_problem_file(KEYS / f"{pid}.toml")  # this tree's key, wherever lookup would look
    return grade_text(path.read_text(encoding="utf-8"), problem, file=str(path), config=GradeConfig()).to_dict()


def part(report: dict, quantity: str) -> dict:
    found = [p for p in report["parts"] if p["quantity"] == quantity]
    assert len(found) == 1, f"{quantity}: {len(found)} parts in {[p['quantity'] for p in report['parts']]}"
    return found[0]


RIGHT = "right"
ROWS = [
    # (fixture, key, quantity, expected: RIGHT = correct or up to layout, else the verdict;
    #  words the feedback contains; a known grading gap that makes the row fail, or None)
    ("linreg_columns_right.md", "linreg-mse", "dJ/dw", RIGHT, "", None),
    ("linreg_columns_right.md", "linreg-mse", "dJ/db", RIGHT, "", None),
    ("linreg_rows_mistakes.md", "linreg-mse", "dJ/dw", "incorrect", "2 times", None),
    ("linreg_rows_mistakes.md", "linreg-mse", "dJ/db", RIGHT, "", None),
    ("svm_rows_right.md", "svm-hinge", "dJ/dW", RIGHT, "", None),
    ("svm_rows_right.md", "svm-hinge", "dJt/dW", RIGHT, "", None),
    ("svm_columns_mistakes.md", "svm-hinge", "dJ/dW", RIGHT, "", None),
    ("svm_columns_mistakes.md", "svm-hinge", "dJt/dW", "incorrect", "2λ", None),
    ("word2vec_sum_right.md", "word2vec-naive-softmax", "dJ/dvc", RIGHT, "", None),
    ("word2vec_sum_right.md", "word2vec-naive-softmax", "dJ/du", RIGHT, "", None),
    ("word2vec_sum_right.md", "word2vec-naive-softmax", "dJ/dU", RIGHT, "", None),
    ("word2vec_mistakes.md", "word2vec-naive-softmax", "dJ/dvc", "incorrect", "sign", None),
    ("word2vec_mistakes.md", "word2vec-naive-softmax", "dJ/du", "incorrect", "", None),
    ("word2vec_mistakes.md", "word2vec-naive-softmax", "dJ/dU", RIGHT, "", None),
    ("batchnorm_columns_right.md", "batchnorm", "dL/dgamma", RIGHT, "", None),
    ("batchnorm_columns_right.md", "batchnorm", "dL/dbeta", RIGHT, "", None),
    ("batchnorm_columns_right.md", "batchnorm", "dL/dX", RIGHT, "", None),
    ("batchnorm_mistakes.md", "batchnorm", "dL/dgamma", "incorrect", "", None),
    ("batchnorm_mistakes.md", "batchnorm", "dL/dbeta", RIGHT, "", None),
    ("batchnorm_mistakes.md", "batchnorm", "dL/dX", "incorrect", "", None),
    ("rnn_delta_right.md", "rnn-2step", "dJ/dV", RIGHT, "", None),
    ("rnn_delta_right.md", "rnn-2step", "dJ/dh2", RIGHT, "", None),
    ("rnn_delta_right.md", "rnn-2step", "dJ/dh1", RIGHT, "", None),
    ("rnn_delta_right.md", "rnn-2step", "dJ/dW", RIGHT, "", None),
    ("rnn_mistakes.md", "rnn-2step", "dJ/dV", RIGHT, "", None),
    ("rnn_mistakes.md", "rnn-2step", "dJ/dh2", RIGHT, "", None),
    ("rnn_mistakes.md", "rnn-2step", "dJ/dh1", "incorrect", "activation derivative", None),
    ("rnn_mistakes.md", "rnn-2step", "dJ/dW", "incorrect", "", None),
    ("leaky_rows_right.md", "leaky-relu-mlp", "dJ/dz2", RIGHT, "", None),
    ("leaky_rows_right.md", "leaky-relu-mlp", "dJ/dW1", RIGHT, "", None),
    ("leaky_rows_right.md", "leaky-relu-mlp", "dJ/db1", RIGHT, "", None),
    ("leaky_mistakes.md", "leaky-relu-mlp", "dJ/dz2", "incorrect", "", None),
    ("leaky_mistakes.md", "leaky-relu-mlp", "dJ/dW1", "incorrect", "1/N", None),
    ("leaky_mistakes.md", "leaky-relu-mlp", "dJ/db1", RIGHT, "", None),
]


def _row(fixture, pid, quantity, expected, words, gap):
    row_id = f"{fixture.removesuffix('.md')}:{quantity}"
    if pid in PENDING or gap is None:
        return pending(pid, fixture, quantity, expected, words, id=row_id)
    return xfail(pid, fixture, quantity, expected, words, reason=gap, id=row_id)


@pytest.mark.parametrize("pid, fixture, quantity, expected, words", [_row(*r) for r in ROWS])
def test_bank_submission_part_grades_as_a_ta_would(pid, fixture, quantity, expected, words):
    p = part(graded(fixture, pid), quantity)
    if expected == RIGHT:
        assert p["verdict"] in ACCEPT, (p["verdict"], p["claim"], p["feedback"])
    else:
        assert p["verdict"] == expected, (p["verdict"], p["claim"], p["feedback"])
        assert "not defined" not in p["feedback"], p["feedback"]  # rejected for its mistake, not unread
    assert words in p["feedback"], p["feedback"]


def _fixture_row(fixture, pid):
    gaps = {g for f, k, _, e, _, g in ROWS if (f, k) == (fixture, pid) and g and e == RIGHT}
    if pid in PENDING or not gaps:
        return pending(pid, fixture, id=fixture)
    return xfail(pid, fixture, reason="; ".join(sorted(gaps)), id=fixture)


@pytest.mark.parametrize("pid, fixture", [_fixture_row(f, k) for f, k in sorted({(r[0], r[1]) for r in ROWS})])
def test_bank_submission_answers_every_part_and_is_scored(pid, fixture):
    report = graded(fixture, pid)
    assert "error" not in report, report.get("error")
    assert [p["quantity"] for p in report["parts"]] == BANK[pid]
    accepted = sum(p["verdict"] in ACCEPT for p in report["parts"])
    assert accepted == sum(r[3] == RIGHT for r in ROWS if (r[0], r[1]) == (fixture, pid))
    assert 0 < report["score"] <= report["max_score"]


def test_every_bank_problem_has_a_right_and_a_wrong_submission():
    for pid, quantities in BANK.items():
        rows = [(f, q, e) for f, k, q, e, _, _ in ROWS if k == pid]
        fixtures = {f for f, _, _ in rows}
        assert len(fixtures) == 2, (pid, fixtures)
        assert any(all(e == RIGHT for g, _, e in rows if g == f) for f in fixtures), pid
        assert any(e != RIGHT for _, _, e in rows), pid
        for f in fixtures:
            assert sorted(q for g, q, _ in rows if g == f) == sorted(quantities), (pid, f)


# ======================================================================= 4. single claims, per quantity

LEAKY_ERR = r"W^{(2)T}(\psi(z^{(3)}) - \Delta)"
RNN_D2 = r"(1 - h_2 \odot h_2) \odot V^T (\hat y - y)"
CLAIMS = [
    # (key, quantity, claim, verdict, words in the feedback)
    ("leaky-relu-mlp", "dJ/dz2", rf"\frac{{1}}{{N}} {LEAKY_ERR} \odot \phi'(z^{{(2)}})", "correct", ""),
    ("leaky-relu-mlp", "dJ/dz2", r"\frac{1}{N} (\hat Y - Y) W^{(2)} \odot \phi'(Z^{(2)})", "correct", "rows"),
    (
        "leaky-relu-mlp",
        "dJ/dz2",
        rf"\frac{{1}}{{N}} {LEAKY_ERR} \odot \mathrm{{LeakyReLU}}_{{\alpha}}'(z^{{(2)}})",
        "correct",
        "",
    ),
    (
        "leaky-relu-mlp",
        "dJ/dz2",
        rf"\frac{{1}}{{N}} {LEAKY_ERR} \odot \left(\alpha + (1 - \alpha)\mathbb{{1}}[z^{{(2)}} > 0]\right)",
        "correct",
        "",
    ),
    ("leaky-relu-mlp", "dJ/dz2", rf"\frac{{1}}{{N}} {LEAKY_ERR} \odot \mathbb{{1}}[z^{{(2)}} > 0]", "incorrect", ""),
    (  # the slope on the wrong side of the kink: only points on both sides tell
        "leaky-relu-mlp",
        "dJ/dz2",
        rf"\frac{{1}}{{N}} {LEAKY_ERR} \odot \left(\alpha\mathbb{{1}}[z^{{(2)}} > 0] + \mathbb{{1}}[z^{{(2)}} \le 0]\right)",
        "incorrect",
        "",
    ),
    ("leaky-relu-mlp", "dJ/dz2", rf"\frac{{1}}{{N}} {LEAKY_ERR} \odot \phi(z^{{(2)}})", "incorrect", ""),
    (
        "leaky-relu-mlp",
        "dJ/dz2",
        r"\frac{1}{N} W^{(2)T}(\Delta - \psi(z^{(3)})) \odot \phi'(z^{(2)})",
        "incorrect",
        "sign",
    ),
    (
        "leaky-relu-mlp",
        "dJ/dW1",
        r"\frac{1}{N}\left(W^{(2)T}(\hat y - y) \odot \phi'(z^{(2)})\right) a^{(1)T}",
        "correct",
        "",
    ),
    (
        "leaky-relu-mlp",
        "dJ/dW1",
        r"\frac{1}{N} X \left(W^{(2)T}(\hat y - y) \odot \phi'(z^{(2)})\right)^T",
        "correct-up-to-layout",
        "transpose",
    ),
    (
        "leaky-relu-mlp",
        "dJ/dW1",
        r"\frac{1}{N}\left(W^{(2)T}(\hat y - y) \odot \phi'(z^{(2)})\right) a^{(2)T}",
        "incorrect",
        "Wrong layer",
    ),
    (
        "leaky-relu-mlp",
        "dJ/db1",
        r"\frac{1}{N}\sum_{i=1}^{N}\left(W^{(2)T}(\hat y - y) \odot \phi'(z^{(2)})\right)_i",
        "correct",
        "",
    ),
    (
        "leaky-relu-mlp",
        "dJ/db1",
        r"\left(W^{(2)T}(\hat y - y) \odot \phi'(z^{(2)})\right) \mathbf{1}_N",
        "incorrect",
        "1/N",
    ),
    ("rnn-2step", "dJ/dV", r"(\hat y - y) h_2^T", "correct", ""),
    ("rnn-2step", "dJ/dV", r"h_2 (\hat y - y)^T", "correct-up-to-layout", "transpose"),
    ("rnn-2step", "dJ/dV", r"(y - \hat y) h_2^T", "incorrect", "sign"),
    ("rnn-2step", "dJ/dV", r"(\hat y - y) h_1^T", "incorrect", "h_{2}"),
    ("rnn-2step", "dJ/dh2", r"V^T(\mathrm{softmax}(V h_2 + c) - y)", "correct", ""),
    ("rnn-2step", "dJ/dh2", r"V(\hat y - y)", "correct-up-to-layout", "transpose V"),
    ("rnn-2step", "dJ/dh2", r"W^T V^T(\hat y - y)", "incorrect", "extra factor"),
    ("rnn-2step", "dJ/dh1", r"W^T \left((1 - \tanh^2(W h_1 + U x_2 + b)) \odot V^T(\hat y - y)\right)", "correct", ""),
    ("rnn-2step", "dJ/dh1", r"W^T \mathrm{diag}(\mathbf{1} - h_2 \odot h_2) V^T(\hat y - y)", "correct", ""),
    ("rnn-2step", "dJ/dh1", r"W^T V^T (\hat y - y)", "incorrect", ""),
    ("rnn-2step", "dJ/dh1", r"W^T \left((1 - h_1 \odot h_1) \odot V^T(\hat y - y)\right)", "incorrect", ""),
    (
        "rnn-2step",
        "dJ/dW",
        rf"\left({RNN_D2}\right) h_1^T + \left((1 - h_1 \odot h_1) \odot W^T \left({RNN_D2}\right)\right) h_0^T",
        "correct",
        "",
    ),
    ("rnn-2step", "dJ/dW", rf"\left({RNN_D2}\right) h_1^T", "incorrect", ""),  # the first step left out
    (
        "rnn-2step",
        "dJ/dW",
        rf"\left({RNN_D2}\right) h_0^T + \left((1 - h_1 \odot h_1) \odot W^T \left({RNN_D2}\right)\right) h_1^T",
        "incorrect",
        "",
    ),
    ("word2vec-naive-softmax", "dJ/du", r"(\hat y_w - y_w) v_c", "correct", ""),
    (
        "word2vec-naive-softmax",
        "dJ/du",
        r"\begin{cases} (\hat y_w - 1) v_c & w = o \\ \hat y_w v_c & w \neq o \end{cases}",
        "correct",
        "",
    ),
    ("word2vec-naive-softmax", "dJ/du", r"\hat y_w v_c", "incorrect", ""),
    ("word2vec-naive-softmax", "dJ/du", r"(y_w - \hat y_w) v_c", "incorrect", "sign"),
    # e_o: the unit vector of the outside word's class index, sized by the vectors over the vocabulary
    ("word2vec-naive-softmax", "dJ/dvc", r"U(\hat y - e_o)", "correct", ""),
    ("word2vec-naive-softmax", "dJ/dvc", r"-u_o + U\hat y", "correct", ""),
    ("word2vec-naive-softmax", "dJ/dU", r"v_c (\hat y - e_o)^T", "correct", ""),
    ("word2vec-naive-softmax", "dJ/dvc", r"U(e_o - \hat y)", "incorrect", "sign"),
]


@pytest.mark.parametrize(
    "pid, qid, claim, verdict, words",
    [pending(*row, id=f"{row[0]}:{row[1]}:{i}") for i, row in enumerate(CLAIMS)],
)
def test_bank_claim(pid, qid, claim, verdict, words):
    v = check_claim(load_problem_file(KEYS / f"{pid}.toml"), qid, claim, symbolic=True, timeout=20)
    assert v.verdict == verdict and words in v.feedback, (v.verdict, v.feedback)
    if verdict != "incorrect":
        assert v.symbolic.status == "equal", v.symbolic


NAMED_GAP = (
    "named mistakes of [model] keys: a wrong activation derivative (ReLU′ for the leaky ReLU′) or a missing time step"
)


@pytest.mark.parametrize(
    "pid, qid, claim, words",
    [
        pytest.param("rnn-2step", "dJ/dh1", r"W^T V^T (\hat y - y)", "activation derivative", id="rnn-tanh-derivative"),
        pytest.param(
            "leaky-relu-mlp",
            "dJ/dz2",
            rf"\frac{{1}}{{N}} {LEAKY_ERR}",
            r"activation derivative \mathbb{1}[z^{(2)} > 0] + \alpha\,\mathbb{1}[z^{(2)} \le 0] is missing",
            id="leaky-relu-derivative-missing",
        ),
        pytest.param(
            "logreg-l2", "dJt/dw", r"X^T(\hat y - y) + \lambda w", "1/N is missing", id="logreg-1/N-beside-regulariser"
        ),
        xfail(
            "leaky-relu-mlp",
            "dJ/dz2",
            rf"\frac{{1}}{{N}} {LEAKY_ERR} \odot \mathbb{{1}}[z^{{(2)}} > 0]",
            "α",
            reason=NAMED_GAP,
            id="leaky-relu-derivative-of-relu",
        ),
    ],
)
def test_bank_mistake_is_named(pid, qid, claim, words):
    v = check_claim(load_problem_file(KEYS / f"{pid}.toml"), qid, claim, symbolic=False)
    assert v.verdict == "incorrect" and words in v.feedback, v.feedback
