"""Named mistakes for any model: the mistakes TAs see each term on the bank keys and on keys written
for this table, each claim labelled wrong by finite differences of the key's own model, each named
as expected, and the named fix, applied, right (a name is never wrong)."""

from pathlib import Path

import pytest
from fd_labels import labelled_right

from symderiv import check_claim
from symderiv.answerkey.problem import load_problem, load_problem_file

MODEL = Path(__file__).parent / "fixtures" / "model"


def _problem(key: str):
    return load_problem_file(MODEL / key) if key.endswith(".toml") else load_problem(key)


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
