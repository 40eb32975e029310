"""Named mistakes for any model: the mistakes TAs see each term on the bank keys and on keys written
for this table, each claim labelled wrong by finite differences of the key's own model, each named
as expected, and the named fix, applied, right (a name is never wrong)."""

from pathlib import Path

import pytest
from fd_labels import labelled_right
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symderiv import check_claim
from symderiv.answerkey.problem import load_problem, load_problem_file
from symderiv.core.tree import Add, Div, Num, Pow, Product, Sym
from symderiv.judging.edits import put_at, tree_paths
from symderiv.judging.fixes import FixFinder
from symderiv.notation.latex import to_latex
from symderiv.notation.parse import parse

MODEL = Path(__file__).parent / "fixtures" / "model"


COURSE = Path(__file__).parent / "fixtures" / "course"


def _problem(key: str):
    if not key.endswith(".toml"):
        return load_problem(key)
    return load_problem_file(MODEL / key if (MODEL / key).exists() else COURSE / key)


LEAKY_BACK = r"\frac{1}{N} W^{(2)T}(\psi(z^{(3)}) - \Delta)"
RNN_DH2 = r"V^T(\hat y - y)"

# (key, quantity, wrong claim, diagnosis code, words the feedback holds, the claim with the named fix)
MISTAKES = [
    pytest.param(
        "leaky-relu-mlp",
        "dJ/dz2",
        LEAKY_BACK + r" \odot \mathbb{1}[z^{(2)} > 0]",
        "wrong-activation-derivative",
        r"\alpha\,\mathbb{1}[z^{(2)} \le 0]",
        LEAKY_BACK + r" \odot (\mathbb{1}[z^{(2)} > 0] + \alpha\,\mathbb{1}[z^{(2)} \le 0])",
        id="leaky-relu-prime-for-leaky",
    ),
    pytest.param(
        "leaky-relu-mlp",
        "dJ/dz2",
        LEAKY_BACK + r" \odot (\alpha\,\mathbb{1}[z^{(2)} > 0] + \mathbb{1}[z^{(2)} \le 0])",
        "wrong-activation-derivative",
        "is not the derivative",
        LEAKY_BACK + r" \odot (\mathbb{1}[z^{(2)} > 0] + \alpha\,\mathbb{1}[z^{(2)} \le 0])",
        id="leaky-slope-on-the-wrong-side",
    ),
    pytest.param(
        "rnn-2step",
        "dJ/dh1",
        r"W^T\left((1 - h_2) \odot " + RNN_DH2 + r"\right)",
        "wrong-activation-derivative",
        r"1 - \tanh^2",
        r"W^T\left((1 - h_2^2) \odot " + RNN_DH2 + r"\right)",
        id="tanh-prime-as-one-minus-h",
    ),
    pytest.param(
        "rnn-2step",
        "dJ/dh1",
        r"W\left((1 - h_2^2) \odot " + RNN_DH2 + r"\right)",
        "transposed-factor",
        "should be W^{",
        r"W^T\left((1 - h_2^2) \odot " + RNN_DH2 + r"\right)",
        id="bptt-W-for-W-transpose",
    ),
    pytest.param(
        "rnn-2step",
        "dJ/dW",
        r"\left((1 - h_2^2) \odot " + RNN_DH2 + r"\right) h_1^T",
        "missing-path",
        "h_1 = ",
        r"\left((1 - h_2^2) \odot "
        + RNN_DH2
        + r"\right) h_1^T + \left((1 - h_1^2) \odot W^T\left((1 - h_2^2) \odot "
        + RNN_DH2
        + r"\right)\right) h_0^T",
        id="bptt-time-step-left-out",
    ),
    pytest.param(
        "word2vec-naive-softmax",
        "dJ/dvc",
        r"U \hat y",
        "missing-term",
        "U y",
        r"U \hat y - U y",
        id="word2vec-minus-u-o-missing",
    ),
    pytest.param(
        "word2vec-naive-softmax",
        "dJ/du",
        r"\hat y_w v_c",
        "only-one-case",
        "w ≠ o",
        r"(\hat y_w - \mathbb{1}[w = o]) v_c",
        id="word2vec-right-only-for-w-not-o",
    ),
    pytest.param(
        "word2vec-naive-softmax",
        "dJ/dvc",
        r"U(\sigma(U^T v_c) - y)",
        "wrong-activation",
        "softmax",
        r"U(\mathrm{softmax}(U^T v_c) - y)",
        id="word2vec-sigmoid-for-softmax",
    ),
    pytest.param(
        "batchnorm",
        "dL/dX",
        r"(G \odot \mathbf{1}_N \gamma^T) \odot \mathbf{1}_N ((\sigma^2 + \epsilon)^{-1/2})^T",
        "missing-path",
        r"\mu",
        None,
        id="batchnorm-mean-and-variance-paths-missing",
    ),
    pytest.param(
        "softmax-2layer",
        "dJt/dW2",
        r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)a^{(2)T} + \lambda W^{(2)}",
        "regularisation-coefficient",
        r"should be 2\lambda W^{(2)}, not \lambda W^{(2)}",
        r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)a^{(2)T} + 2\lambda W^{(2)}",
        id="softmax-lambda-for-2lambda",
    ),
    # the claim against the key's own closed form: the one part it gets wrong (symderiv/judging/keyform.py)
    pytest.param(
        "batchnorm",
        "dL/dX",
        r"\frac{1}{N} \mathbf{1}_N \left((\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
        "missing-factor",
        r"\gamma",
        r"\frac{1}{N} \mathbf{1}_N \left(\gamma \odot (\sigma^2 + \epsilon)^{-1/2}\right)^T \odot \left(N G - \mathbf{1}_N \mathbf{1}_N^T G - \hat X \odot \mathbf{1}_N \mathbf{1}_N^T (G \odot \hat X)\right)",
        id="batchnorm-gamma-missing",
    ),
    pytest.param(
        "rnn-2step",
        "dJ/dW",
        r"\left((\mathbf{1}_H - h_2 \odot h_2) \odot V^T (\hat y - y)\right) h_0^T + \left((\mathbf{1}_H - h_1 \odot h_1) \odot W^T \left((\mathbf{1}_H - h_2 \odot h_2) \odot V^T (\hat y - y)\right)\right) h_1^T",
        "wrong-time-step",
        "are swapped",
        r"\left((\mathbf{1}_H - h_2 \odot h_2) \odot V^T (\hat y - y)\right) h_1^T + \left((\mathbf{1}_H - h_1 \odot h_1) \odot W^T \left((\mathbf{1}_H - h_2 \odot h_2) \odot V^T (\hat y - y)\right)\right) h_0^T",
        id="bptt-h0-h1-swapped",
    ),
    pytest.param(
        "svm-hinge",
        "dJ/dW",
        r"\frac{1}{N}\left(\mathbb{1}[M < 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M < 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T",
        "reversed-indicator",
        r"M > 0",
        r"\frac{1}{N}\left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot \mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T",
        id="svm-both-indicators-reversed",
    ),
    pytest.param(
        "layernorm.toml",
        "dL/dx",
        r"\frac{1}{D\sqrt{v + \epsilon}}\left(D\, g \odot \gamma - \mathbf{1}_D \mathbf{1}_D^T (g \odot \gamma) - \mathbf{1}_D \left(\hat x^T (g \odot \gamma)\right)\right)",
        "missing-factor",
        r"\hat{x}",
        r"\frac{1}{D\sqrt{v + \epsilon}}\left(D\, g \odot \gamma - \mathbf{1}_D \mathbf{1}_D^T (g \odot \gamma) - \hat x \odot \mathbf{1}_D \left(\hat x^T (g \odot \gamma)\right)\right)",
        id="layernorm-xhat-missing-in-variance-term",
    ),
    # a variable for another, whatever the layout
    pytest.param(
        "word2vec-naive-softmax",
        "dJ/du",
        r"(\hat y_w - y_w)\, u_w",
        "wrong-variable",
        "v_{c} belongs",
        r"(\hat y_w - y_w)\, v_c",
        id="word2vec-u-for-v",
    ),
    pytest.param(
        "logreg-l2",
        "dJ/db",
        r"\frac{1}{N}\sum_{i=1}^{N} (z_i - y_i)",
        "pre-activation-for-activation",
        r"\hat{y}_{i} belongs",
        r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i)",
        id="logreg-z-for-yhat-in-a-sum",
    ),
    # arguments and powers from the model's equations (symderiv/judging/fixes_arguments.py)
    pytest.param(
        "logreg-l2",
        "dJ/db",
        r"\frac{1}{N}\sum_{i=1}^{N} \left(\sigma(w^T x_i) - y_i\right)",
        "bias-missing",
        "The bias b is missing",
        r"\frac{1}{N}\sum_{i=1}^{N} \left(\sigma(w^T x_i + b) - y_i\right)",
        id="logreg-bias-left-out",
    ),
    pytest.param(
        "rnn-2step",
        "dJ/dh1",
        r"W^T\left(\left(1 - \tanh^2(W h_1 + U x_2)\right) \odot V^T (\hat y - y)\right)",
        "bias-missing",
        "The bias b is missing",
        r"W^T\left(\left(1 - \tanh^2(W h_1 + U x_2 + b)\right) \odot V^T (\hat y - y)\right)",
        id="rnn-bias-left-out-of-tanh",
    ),
    pytest.param(
        "rnn-2step",
        "dJ/dV",
        r"(\hat y - y)(W h_1 + U x_2 + b)^T",
        "pre-activation-for-activation",
        "h_{2} belongs",
        r"(\hat y - y) h_2^T",
        id="rnn-pre-activation-written-out",
    ),
    pytest.param(
        "batchnorm",
        "dL/dgamma",
        r"\sum_{i=1}^{N} G_{ij} \frac{x_{ij} - \mu_j}{\sigma_j^2 + \epsilon}",
        "wrong-power",
        "The power is wrong",
        None,  # the fix is entrywise with a free j, which fd_labels cannot evaluate; the bank table labels the claim
        id="batchnorm-variance-for-std",
    ),
    pytest.param(
        "batchnorm",
        "dL/dbeta",
        r"G \mathbf{1}_D",
        "wrong-axis",
        r"G^{\top} \mathbf{1}_{N}",
        r"G^T \mathbf{1}_N",
        id="batchnorm-sum-over-the-features",
    ),
    pytest.param(
        "huber.toml",
        "dJ/db",
        r"\frac{1}{N} \mathbf{1}_N^T \max(-\delta, \min(X w - y, \delta))",
        "bias-missing",
        "The bias",
        r"\frac{1}{N} \mathbf{1}_N^T \max(-\delta, \min(X w + b \mathbf{1}_N - y, \delta))",
        id="huber-bias-left-out-of-the-residual",
    ),
    # a sum's bounds: Σ_{i=2}^{N} leaves the first sample out (it was once read as the whole sum)
    pytest.param(
        "logreg-l2",
        "dJ/dw",
        r"\frac{1}{N}\sum_{i=2}^{N} (\hat y_i - y_i) x_i",
        "sum-bounds",
        "the wrong range",
        r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i) x_i",
        id="logreg-sum-from-2",
    ),
    pytest.param(
        "logreg-l2",
        "dJ/dw",
        r"\frac{1}{N}\sum_{i=1}^{N-1} (\hat y_i - y_i) x_i",
        "sum-bounds",
        "the wrong range",
        r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i) x_i",
        id="logreg-sum-to-n-minus-1",
    ),
    pytest.param(
        "dropout.toml",
        "dL/dW",
        r"\frac{1}{p}(v \odot \mathbb{1}[z > 0]) x^T",
        "missing-factor",
        "m",
        r"\frac{1}{p}(v \odot m \odot \mathbb{1}[z > 0]) x^T",
        id="dropout-mask-missing",
    ),
    pytest.param(
        "conv1d.toml",
        "dL/dw",
        r"\sum_{i=1}^{M} (y_i - t_i) x_{i+k}",
        None,
        "",
        r"\sum_{i=1}^{M} (y_i - t_i) x_{i+k-1}",
        id="conv1d-off-by-one",
    ),
]


@pytest.mark.parametrize("key, qid, claim, code, words, fixed", MISTAKES)
def test_the_mistake_is_named_and_its_fix_is_right(key, qid, claim, code, words, fixed):
    problem = _problem(key)
    assert not labelled_right(problem, qid, claim), "the table's label: the claim is right by finite differences"
    v = check_claim(problem, qid, claim, symbolic=False)
    assert v.verdict == "incorrect", v.feedback
    if code is not None:
        assert v.diagnosis == code, v.feedback
        assert words in v.feedback, v.feedback
    if fixed is not None:
        assert labelled_right(problem, qid, fixed), "the table's fix: wrong by finite differences"
        assert check_claim(problem, qid, fixed, symbolic=False).verdict == "correct"


RIGHT = [
    pytest.param("logreg-l2", "dJ/dw", r"\frac{1}{N}\sum_{i=0}^{N-1} (\hat y_i - y_i) x_i", id="a-sum-numbered-from-0"),
    pytest.param("conv1d.toml", "dL/dw", r"\sum_{i=1}^{M} (y_i - t_i) x_{i+k-1}", id="conv1d-index-arithmetic"),
    pytest.param("dropout.toml", "dL/dW", r"\frac{1}{p}(v \odot m \odot \mathbb{1}[W x > 0]) x^T", id="dropout"),
    pytest.param(
        "svm-hinge",
        "dJ/dW",
        r"\frac{1}{N} \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta) - \Delta \odot "
        r"\mathbf{1}_C \mathbf{1}_C^T \left(\mathbb{1}[M > 0] \odot (\mathbf{1}_C \mathbf{1}_N^T - \Delta)\right)\right) X^T",
        id="svm-key-form",
    ),
]


@pytest.mark.parametrize("key, qid, claim", RIGHT)
def test_right_claims_of_features_keys_write(key, qid, claim):
    problem = _problem(key)
    assert labelled_right(problem, qid, claim), "the table's label: wrong by finite differences"
    v = check_claim(problem, qid, claim)
    assert v.verdict == "correct", v.feedback
    assert v.symbolic.status == "equal", v.symbolic.detail


# ---------------------------------------------------------------- a named fix, applied, is right

FIX_KEYS = [
    ("logreg-l2", "dJ/dw"),
    ("batchnorm", "dL/dX"),
    ("rnn-2step", "dJ/dW"),
    ("svm-hinge", "dJ/dW"),
    ("word2vec-naive-softmax", "dJ/dU"),
    ("leaky-relu-mlp", "dJ/dz2"),
]


def _slips(tree):
    """The key's closed form with one slip: a symbol for another, a factor or a term left out, a power halved."""
    symbols = list(dict.fromkeys(n for n in tree.walk() if isinstance(n, Sym)))
    for path, node in tree_paths(tree):
        if isinstance(node, Sym):
            yield from (put_at(tree, path, other) for other in symbols if other != node)
        elif isinstance(node, Product) and len(node.factors) > 1:
            for k in range(len(node.factors)):
                kept = node.factors[:k] + node.factors[k + 1 :]
                ops = node.ops[: k - 1] + node.ops[k:] if k else node.ops[1:]
                yield put_at(tree, path, kept[0] if len(kept) == 1 else Product(kept, ops))
        elif isinstance(node, Add) and len(node.terms) > 1:
            for k in range(len(node.terms)):
                kept = node.terms[:k] + node.terms[k + 1 :]
                yield put_at(tree, path, kept[0] if len(kept) == 1 else Add(kept))
        elif isinstance(node, Pow):
            yield put_at(tree, path, Pow(node.base, Div(node.exponent, Num(2))))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIX_KEYS), st.integers(min_value=0, max_value=10_000))
def test_a_named_fix_applied_is_right_by_finite_differences(key_quantity, pick):
    """Whatever slip a claim written like the key's makes, the edit that names it, applied, gives a
    claim finite differences call right: a name never suggests a wrong fix."""
    key, qid = key_quantity
    problem = _problem(key)
    quantity = problem.quantity(qid)
    slips = list(_slips(parse(quantity.claim)))
    claim = to_latex(slips[pick % len(slips)])
    assume(not labelled_right(problem, qid, claim))
    for late in (False, True):
        edit, held = FixFinder(problem, quantity, parse(claim)).find_edit(late)
        if edit is not None and held == "strict":
            assert labelled_right(problem, qid, to_latex(edit.tree)), (claim, edit.code, edit.message)
            return


def test_a_sum_from_0_with_index_arithmetic_is_undecided():
    """Σ_{i=0}^{N-1} x_{i+1}: whether subscripts count from 0 or 1 is the student's convention, not ours."""
    v = check_claim(
        "logreg-l2", "dJ/dw", r"\frac{1}{N}\sum_{i=0}^{N-1} (\hat y_{i+1} - y_{i+1}) x_{i+1}", symbolic=False
    )
    assert v.verdict == "undecided" and v.review, v.feedback
