"""[model] keys and the key schema: truth from the equations, the (λ/2)‖w‖² convention, schema errors
naming file, line and field, keys found by path, in ./derivations and in $SYMDERIV_KEYS."""

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.answerkey.problem import load_problem, load_problem_file
from symderiv.core.errors import DerivationFileError
from symderiv.grading.verify import verify_file
from symderiv.judging.check import check_claim

ROOT = Path(__file__).resolve().parent.parent
LOGREG = ROOT / "derivations" / "logreg-l2.toml"
SOFTMAX = ROOT / "derivations" / "softmax-2layer.toml"

CLAIMS = [
    ("dJt/dw", r"\frac{1}{N} X (\hat y - y)^T + \lambda w", "correct", ""),
    ("dJt/dw", r"\frac{1}{N} X (\hat y - y)^T + 2\lambda w", "incorrect", r"should be \lambda w, not 2\lambda w"),
    ("dJt/dw", r"\frac{1}{N} X (\hat y - y)^T", "incorrect", "is missing"),
    ("dJ/dw", r"\frac{1}{N} X^T (\hat y - y)", "correct", ""),  # samples as rows
    ("dJ/dw", r"\frac{1}{N} (\sigma(\mathbf{w}^T x + b) - y) x", "correct", ""),  # one sample, bold alias
    ("dJ/dw", r"(\hat y - y) X^T", "incorrect", "1/N"),
    ("dJ/dw", r"\frac{1}{N} X (y - \hat y)^T", "incorrect", "sign"),
    ("dJ/db", r"\frac{1}{N}\sum_{i=1}^{N} (\hat y_i - y_i)", "correct", ""),
]


@pytest.mark.parametrize("qid, claim, verdict, words", CLAIMS, ids=[f"{q}-{i}" for i, (q, *_) in enumerate(CLAIMS)])
def test_logreg_claims(qid, claim, verdict, words):
    v = check_claim(load_problem_file(LOGREG), qid, claim, symbolic=True, timeout=20)
    assert v.verdict.startswith(verdict) and words in v.feedback, v.feedback


def test_logreg_verifies_both_ways():
    for r in verify_file(LOGREG):
        assert r.ok and r.numeric and r.symbolic and r.gradcheck_max_rel_err <= 1e-7, r.message


def _mutated(tmp_path, source: Path, old: str, new: str, name="bad.toml") -> Path:
    text = source.read_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


WRONG_KEYS = [
    (
        LOGREG,
        r"claim = '\frac{1}{N} X (\hat y - y)^T + \lambda w'",
        r"claim = '\frac{1}{N} X (\hat y - y)^T + 2\lambda w'",
        "dJt/dw",
        r"should be \lambda w, not 2\lambda w",
    ),
    (
        LOGREG,
        r"claim = '\frac{1}{N} (\hat y - y) \mathbf{1}_N'",
        r"claim = '(\hat y - y) \mathbf{1}_N'",
        "dJ/db",
        "1/N",
    ),
    (
        SOFTMAX,
        'regulariser = "lambda"',
        'regulariser = "lambda/2"',
        "dJt/dW2",
        r"should be \lambda W^{(2)}, not 2\lambda W^{(2)}",
    ),
]


@pytest.mark.parametrize(
    "source, old, new, qid, words", WRONG_KEYS, ids=["logreg-2lambda", "logreg-1/N", "half-lambda"]
)
def test_wrong_keys_are_rejected_naming_the_quantity(tmp_path, source, old, new, qid, words):
    results = {r.quantity: r for r in verify_file(_mutated(tmp_path, source, old, new))}
    assert not results[qid].ok and words in results[qid].message, results[qid].message


def test_half_lambda_regulariser_verifies_lambda_w(tmp_path):
    path = _mutated(tmp_path, SOFTMAX, 'regulariser = "lambda"', 'regulariser = "lambda/2"')
    problem = load_problem_file(path)
    claim = r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta) A^{(2)T} + \lambda W^{(2)}"
    assert check_claim(problem, "dJt/dW2", claim, symbolic=True).verdict == "correct"


def test_regulariser_false_means_none_in_the_truth(tmp_path):
    path = _mutated(tmp_path, SOFTMAX, 'regulariser = "lambda"', "regulariser = false")
    problem = load_problem_file(path)
    claim = r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta) A^{(2)T}"
    assert check_claim(problem, "dJt/dW2", claim, symbolic=True).verdict == "correct"


SCHEMA = [
    (SOFTMAX, 'regulariser = "lambda"', 'regularizer = "lambda"', "network.regularizer: unknown field"),
    (SOFTMAX, "optional = [", "optinal = [", "grading.optinal: unknown field"),
    (SOFTMAX, 'regulariser = "lambda"', 'regulariser = "lambda/3"', "network.regulariser"),
    (SOFTMAX, "claim = 'a_i", "clam = 'a_i", "quantity[1].claim: required field missing|clam"),
    (LOGREG, 'role = "parameter", aliases', 'role = "parametre", aliases', "model.symbols.w.role"),
    (LOGREG, 'shape = ["D", 1]', 'shap = ["D", 1]', "model.symbols.w.shap: unknown field"),
    (LOGREG, "numeric = { N = 7, D = 3 }", "numeric = { N = 7, D = \"three\" }", "sizes.numeric.D"),
    (LOGREG, r"'\hat y = \sigma(z)'", r"'\hat y = \sigma(q)'", "uses q, which is not declared"),
    (LOGREG, 'parts = ["dJ/dw"', 'parts = ["dJ/dv"', "grading: 'dJ/dv' is not a quantity"),
    (LOGREG, 'wrt = "b"', 'wrt = "c"', "quantity 'dJ/db': wrt: 'c' is not a declared symbol"),
    (LOGREG, 'wrt = "b"', 'wrt = "lambda"', "J does not depend on lambda"),
]


@pytest.mark.parametrize(
    "source, old, new, message",
    SCHEMA,
    ids=[
        "regularizer",
        "optinal",
        "lambda/3",
        "clam",
        "role",
        "shap",
        "size-type",
        "undefined-symbol",
        "unknown-part",
        "undeclared-wrt",
        "no-dependence",
    ],
)
def test_schema_errors_name_file_line_and_field(tmp_path, source, old, new, message):
    path = _mutated(tmp_path, source, old, new)
    try:
        problem = load_problem_file(path)
        verify_file(path)
    except DerivationFileError as exc:
        text = str(exc)
        assert text.startswith(f"{path}:") and "\n" not in text, text
        assert any(m in text for m in message.split("|")), text
        return
    if message.startswith("before"):  # an undefined symbol surfaces when the truth is computed
        results = verify_file(path)
        assert not all(r.ok for r in results) and problem is not None
        return
    pytest.fail("no error")


def test_key_by_path_in_cwd_derivations_and_env(tmp_path, monkeypatch):
    local = tmp_path / "derivations"
    local.mkdir()
    _mutated(local, LOGREG, 'id = "logreg-l2"', 'id = "course-logreg"', "course-logreg.toml")
    monkeypatch.chdir(tmp_path)
    assert load_problem("course-logreg").id == "course-logreg"  # ./derivations
    assert load_problem(str(local / "course-logreg.toml")).id == "course-logreg"  # a path
    assert load_problem("softmax-2layer").id == "softmax-2layer"  # shipped
    elsewhere = tmp_path / "keys"
    elsewhere.mkdir()
    _mutated(elsewhere, LOGREG, 'id = "logreg-l2"', 'id = "env-logreg"', "env-logreg.toml")
    monkeypatch.setenv("SYMDERIV_KEYS", str(elsewhere))
    assert load_problem("env-logreg").id == "env-logreg"


def test_cli_keys_and_grade_with_a_key_path(tmp_path):
    env_cmd = [sys.executable, "-m", "symderiv.cli"]
    keys = subprocess.run(
        env_cmd + ["keys"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert keys.returncode == 0 and "logreg-l2" in keys.stdout and "softmax-2layer" in keys.stdout
    sub = tmp_path / "s.md"
    sub.write_text("$$\\frac{\\partial J}{\\partial b} = \\frac{1}{N}(\\hat y - y)\\mathbf{1}_N$$\n")
    graded = subprocess.run(
        env_cmd + ["grade", "--no-symbolic", "--key", str(LOGREG), str(sub)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert graded.returncode == 0 and "✓ ∂J/∂b " in graded.stdout, graded.stdout + graded.stderr  # the part's name


def test_every_subpackage_is_installed():
    """pyproject lists the packages (the shipped keys are mapped in as symderiv.keys): none is left out."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {"symderiv"} | {f"symderiv.{p.parent.name}" for p in (ROOT / "symderiv").glob("*/__init__.py")}
    assert present | {"symderiv.keys"} == listed


FIXTURES = Path(__file__).parent / "fixtures" / "model"
COLUMNS = FIXTURES / "columns-and-index.toml"
VALUES = FIXTURES / "forward-values.toml"


@pytest.mark.parametrize("key", [COLUMNS, VALUES], ids=["columns-and-index", "forward-values"])
def test_fixture_keys_verify_both_ways(key):
    for r in verify_file(key):
        assert r.ok and r.numeric and r.symbolic and r.gradcheck_max_rel_err <= 1e-7, (r.quantity, r.message)


FIXTURE_CLAIMS = [
    (COLUMNS, "dJ/du", r"(\hat y_w - y_w) v_c", "correct", ""),
    (COLUMNS, "dJ/du", r"\begin{cases} \hat y_o v_c & w = o \\ \hat y_w v_c & w \neq o \end{cases}", "incorrect", ""),
    (COLUMNS, "dJ/dvc", r"-u_o + \sum_{w=1}^{V} \hat y_w u_w", "correct", ""),
    (COLUMNS, "dJ/dvc", r"u_o - \sum_{w} \hat y_w u_w", "incorrect", "sign"),
    (COLUMNS, "dJ/dU", r"v_c (\hat y - y)^T", "correct", ""),
    (VALUES, "z", "1.5", "correct", ""),
    (VALUES, "z", "2.5", "incorrect", "not 2.5"),
    (VALUES, "a", r"\sigma(1.5)", "correct", ""),
]


@pytest.mark.parametrize(
    "key, qid, claim, verdict, words",
    FIXTURE_CLAIMS,
    ids=[f"{k.stem}-{q}-{i}" for i, (k, q, *_) in enumerate(FIXTURE_CLAIMS)],
)
def test_fixture_key_claims(key, qid, claim, verdict, words):
    v = check_claim(load_problem_file(key), qid, claim, symbolic=True, timeout=20)
    assert v.verdict.startswith(verdict) and words in v.feedback, v.feedback


WORDS = [  # a [model] key's left sides and word aliases, read as the course writes them
    ("svm-hinge", r"\frac{\partial \tilde J}{\partial W}", "dJt/dW"),
    ("svm-hinge", r"\frac{\partial J}{\partial W}", "dJ/dW"),
    ("logreg-l2", r"\frac{\partial \tilde{J}}{\partial \mathbf{w}}", "dJt/dw"),
    ("logreg-l2", r"\frac{\partial J}{\partial b}", "dJ/db"),
]


@pytest.mark.parametrize("pid, lhs, qid", WORDS, ids=[f"{p}:{q}" for p, _, q in WORDS])
def test_model_left_sides_name_their_quantity(pid, lhs, qid):
    from symderiv.judging.identify import identify_quantity

    assert identify_quantity(load_problem_file(ROOT / "derivations" / f"{pid}.toml"), lhs) == qid


def test_word_alias_dY_is_the_declared_upstream_gradient():
    problem = load_problem_file(ROOT / "derivations" / "batchnorm.toml")
    assert check_claim(problem, "dL/dbeta", r"dY^T \mathbf{1}_N", symbolic=False).accepted


FIELD_VALUES = st.one_of(
    st.integers(-3, 9).map(str),
    st.just('"x"'),
    st.just("[]"),
    st.just('["D", "N"]'),
    st.just("{ }"),
    st.just("true"),
    st.just("'\\\\frac{1}{N}'"),
    st.just('"N"'),
)


@settings(max_examples=60, deadline=None)
@given(line=st.integers(0, 200), value=FIELD_VALUES)
def test_any_mutated_field_loads_or_fails_in_one_line(tmp_path_factory, line, value):
    """Whatever value a field of a [model] key is given, loading gives a problem or a one-line
    DerivationFileError naming the file, never another exception."""
    lines = LOGREG.read_text().splitlines()
    fields = [i for i, text in enumerate(lines) if " = " in text and not text.lstrip().startswith("#")]
    i = fields[line % len(fields)]
    key, _, _ = lines[i].partition(" = ")
    lines[i] = f"{key} = {value}"
    path = tmp_path_factory.mktemp("mutated") / "key.toml"
    path.write_text("\n".join(lines))
    try:
        load_problem_file(path)
    except DerivationFileError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc), str(exc)


def test_witness_over_the_dag_agrees_with_lambdify():
    """The witness walks the expression's DAG (pointvalue.py) instead of printing it for lambdify:
    the same value, to 30 digits, on nested tanh and exp."""
    import mpmath
    import sympy as sp

    from symderiv.evaluation.pointvalue import value_at

    a, b, s = sp.symbols("a b s1_1")
    inner = sp.tanh(3 * a - b / 2)
    expr = (
        sp.log(1 + sp.exp(sp.tanh(a * inner + b) * s))
        - sp.Rational(2, 7) * inner**2
        + sp.Abs(b - a) ** sp.Rational(1, 2)
    )
    point = {a: mpmath.mpf(2) / 3, b: mpmath.mpf(5) / 4, s: 1}
    with mpmath.workdps(30):
        expected = sp.lambdify([a, b, s], expr, "mpmath")(*point.values())
        assert abs(value_at(expr, point) - expected) < mpmath.mpf(10) ** -25


def test_key_function_derivative_and_its_limits(tmp_path):
    """φ'(z) of φ(u) = LeakyReLU_α(u) is the built-in's derivative; a body that is not one built-in
    of u has no derivative here (undecided, for review, with the reason; never guessed); a body
    applying a key function is refused when the key loads."""
    key = ROOT / "derivations" / "leaky-relu-mlp.toml"
    problem = load_problem_file(key)
    claim = r"\frac{1}{N} W^{(2)T}(\psi(z^{(3)}) - \Delta) \odot \phi'(z^{(2)})"
    assert check_claim(problem, "dJ/dz2", claim, symbolic=False).verdict == "correct"
    softplus = _mutated(
        tmp_path, key, r"'\phi(u)' = '\mathrm{LeakyReLU}_{\alpha}(u)'", r"'\phi(u)' = '\log(1 + e^{u})'"
    )
    v = check_claim(load_problem_file(softplus), "dJ/dz2", claim, symbolic=False)
    assert v.verdict == "undecided" and "derivative of phi is not known" in v.feedback, v.feedback  # for review
    looped = _mutated(
        tmp_path, key, r"'\phi(u)' = '\mathrm{LeakyReLU}_{\alpha}(u)'", r"'\phi(u)' = '\psi(u)'", "loop.toml"
    )
    with pytest.raises(DerivationFileError, match="applies a function of the key"):
        load_problem_file(looped)
