"""Issue 22, item 6: a hostile or careless answer key is a one-line error naming the file, the line
and the field, before anything is allocated; `serve` refuses to start on a key that would not verify."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.answerkey.problem import load_problem_file
from symderiv.cli import main
from symderiv.core.errors import DerivationFileError

ROOT = Path(__file__).resolve().parents[1]
MODEL = (ROOT / "derivations" / "logreg-l2.toml").read_text(encoding="utf-8")
NETWORK = (ROOT / "derivations" / "softmax-2layer.toml").read_text(encoding="utf-8")
MODEL_SIZES = "numeric = { N = 7, D = 3 }"
NETWORK_SIZES = "numeric = { N = 7, D = 3, H = 4, C = 5 }"


def model(old: str, new: str) -> str:
    assert old in MODEL
    return MODEL.replace(old, new, 1)


def network(old: str, new: str) -> str:
    assert old in NETWORK
    return NETWORK.replace(old, new, 1)


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return MODEL.replace("[grading]", f"[extra]\nx = {opener * depth}{closer * depth}\n[grading]")


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


CASES = [
    pytest.param(
        model(MODEL_SIZES, "numeric = { N = 0, D = 3 }"),
        "sizes.numeric.N: 0 is not a size",
        "numeric =",
        id="size-zero",
    ),
    pytest.param(
        model(MODEL_SIZES, "numeric = { N = -2, D = 3 }"),
        "sizes.numeric.N: -2 is not a size",
        "numeric =",
        id="size-negative",
    ),
    pytest.param(
        model(MODEL_SIZES, "numeric = { N = 1000000000, D = 3 }"),
        "sizes.numeric.N: 1000000000 is not a size from 1 to 100",
        "numeric =",
        id="size-1e9",
    ),
    pytest.param(
        model("symbolic = { N = 2, D = 3 }", "symbolic = { N = 2, D = 300 }"),
        "sizes.symbolic.D: 300 is not a size from 1 to 10",
        "symbolic = { N",
        id="symbolic-size-huge",
    ),
    pytest.param(
        model("symbolic = { N = 2, D = 3 }\n", "").replace(MODEL_SIZES, "numeric = { N = 50, D = 3 }"),
        "used for both checks",
        "numeric =",
        id="numeric-used-symbolically",
    ),
    pytest.param(
        model(MODEL_SIZES, "numeric = { N = 7 }").replace("symbolic = { N = 2, D = 3 }", "symbolic = { N = 2 }"),
        "model.symbols.X.shape: the size 'D' is not declared in [sizes] numeric",
        "X = {",
        id="size-name-missing",
    ),
    pytest.param(
        model("symbolic = { N = 2, D = 3 }", "symbolic = { N = 2 }"),
        "the size 'D' is not declared in [sizes] symbolic",
        "X = {",
        id="size-name-missing-symbolic",
    ),
    pytest.param(
        model('batch = "N"', 'batch = "B"'),
        "model.batch: the size 'B' is not declared",
        'batch = "B"',
        id="batch-undeclared",
    ),
    pytest.param(
        model('shape = ["D", 1]', 'shape = ["D", 0]'),
        "model.symbols.w.shape: 0 is not a size",
        "w = {",
        id="shape-zero",
    ),
    pytest.param(
        model("range = [0.1, 0.9]", "range = [1e308, inf]"),
        "model.symbols.lambda.range: 1e+308 is not a finite number",
        "lambda = {",
        id="range-1e308-inf",
    ),
    pytest.param(
        model("range = [0.1, 0.9]", "range = [nan, 1]"),
        "lambda.range: nan is not a finite",
        "lambda = {",
        id="range-nan",
    ),
    pytest.param(
        model("range = [0.1, 0.9]", "range = [0.9, 0.1]"),
        "the low end is above the high end",
        "lambda = {",
        id="range-reversed",
    ),
    pytest.param(
        model("range = [0.1, 0.9]", "value = -inf"),
        "lambda.value: -inf is not a finite",
        "lambda = {",
        id="value-infinite",
    ),
    pytest.param(nested(5000), "nested too deeply", "x = [[[", id="array-5000-deep"),
    pytest.param(nested(990), "nested too deeply", "x = [[[", id="array-990-deep"),
    pytest.param(nested(5000, "{a=", "}"), "nested too deeply", "x = {a={a=", id="table-5000-deep"),
    pytest.param(
        network(NETWORK_SIZES, "numeric = { N = 7, D = 0, H = 4, C = 5 }"),
        "sizes.numeric.D: 0 is not a size",
        "numeric =",
        id="network-size-zero",
    ),
    pytest.param(
        network(NETWORK_SIZES, "numeric = { N = 7, D = 3, C = 5 }"),
        "network.layers[1].size: the size 'H' is not declared in [sizes] numeric",
        "layers = [",
        id="network-size-name-missing",
    ),
    pytest.param(
        network('size = "H"', "size = 0"), "network.layers[1].size: 0 is not a size", "layers = [", id="layer-size-zero"
    ),
    pytest.param(
        network('size = "H"', "size = 100000"),
        "network.layers[1].size: 100000 is not a size from 1 to 10",
        "layers = [",
        id="layer-size-huge",
    ),
    pytest.param(
        network('input = "D"', 'input = "E"'),
        "network.input: the size 'E' is not declared",
        'input = "E"',
        id="input-undeclared",
    ),
]


@pytest.mark.parametrize("text, words, line_with", CASES)
def test_a_hostile_key_is_one_line_naming_file_line_and_field(tmp_path, text, words, line_with):
    key = tmp_path / "key.toml"
    key.write_text(text, encoding="utf-8")
    with pytest.raises(DerivationFileError) as info:
        load_problem_file(key)
    message = str(info.value)
    assert words in message and "\n" not in message, message
    assert message.startswith(f"{key}:{line_of(text, line_with)}: "), message


def test_a_key_larger_than_a_key_can_be_is_refused_unread(tmp_path):
    key = tmp_path / "key.toml"
    key.write_text(MODEL + "#" * (1024 * 1024), encoding="utf-8")
    with pytest.raises(DerivationFileError, match="larger than 1024 KB"):
        load_problem_file(key)


@pytest.mark.parametrize(
    "argv_tail",
    [pytest.param(["verify"], id="verify"), pytest.param(["grade", "--key"], id="grade")],
)
def test_the_commands_say_it_in_one_line(tmp_path, capsys, argv_tail):
    key = tmp_path / "key.toml"
    key.write_text(model(MODEL_SIZES, "numeric = { N = 1000000000, D = 3 }"), encoding="utf-8")
    args = [*argv_tail, str(key)] + (["examples/softmax-bob.md"] if argv_tail[0] == "grade" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "sizes.numeric.N: 1000000000 is not a size" in err and "Traceback" not in err


NUMBERS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),  # inf, nan, 1e+308 are TOML too
    st.sampled_from(["[]", "[1]", '"N"', "true", "{}", "[[[[1]]]]"]),
)


@settings(max_examples=80, deadline=None)
@given(slot=st.integers(0, 20), value=NUMBERS)
def test_any_number_anywhere_loads_or_is_one_line(tmp_path_factory, slot, value):
    """Every number of a key replaced by any TOML value: the key loads, or the error is one line with the file."""
    numbers = list(re.finditer(r"(?<![\w.^{\\])\d+(\.\d+)?(?![\w}])", MODEL.split("[[quantity]]")[0]))
    m = numbers[slot % len(numbers)]
    text = MODEL[: m.start()] + value + MODEL[m.end() :]
    key = tmp_path_factory.mktemp("keys") / "key.toml"
    key.write_text(text, encoding="utf-8")
    try:
        load_problem_file(key)
    except DerivationFileError as exc:
        assert str(exc).startswith(str(key)) and "\n" not in str(exc)


# ---- serve refuses a key that would not verify ------------------------------------------------


@pytest.mark.parametrize(
    "text, words",
    [
        pytest.param(
            model(r"claim = '\frac{1}{N} X (\hat y - y)^T'", r"claim = '-\frac{1}{N} X (\hat y - y)^T'"),
            "quantity 'dJ/dw' does not verify",
            id="a-wrong-claim",
        ),
        pytest.param(
            model("symbolic = { N = 2, D = 3 }", "symbolic = { N = 2 }"),
            "the size 'D' is not declared in [sizes] symbolic",
            id="a-missing-size",
        ),
    ],
)
def test_serve_refuses_to_start_on_a_key_that_would_not_verify(tmp_path, capsys, monkeypatch, text, words):
    def never(*args, **kwargs):
        raise AssertionError("the server started")

    monkeypatch.setattr("symderiv.web.server.uvicorn.run", never)
    (tmp_path / "key.toml").write_text(text, encoding="utf-8")
    assert main(["serve", "--keys", str(tmp_path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("symderiv:")] == [err.splitlines()[-1]]


def test_a_model_whose_latex_the_notation_cannot_use_is_one_line(tmp_path):
    text = (ROOT / "derivations" / "leaky-relu-mlp.toml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("'\\alpha' = {"))
    key = tmp_path / "key.toml"
    key.write_text(text.replace(line + "\n", ""), encoding="utf-8")  # the leaky ReLU's slope undeclared
    with pytest.raises(DerivationFileError) as info:
        load_problem_file(key)
    assert str(info.value).startswith(f"{key}:") and "slope" in str(info.value) and "\n" not in str(info.value)
