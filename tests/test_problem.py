"""Derivation files: loading, notation numbering and the errors that name the file."""

from pathlib import Path

import pytest

from symderiv.answerkey.problem import derivation_files, load_problem, load_problem_file
from symderiv.core.errors import DerivationFileError, UnknownProblemError, UnknownQuantityError

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_IDS = {
    "softmax-2layer": {
        "softmax-jacobian",
        "dJ/dz3",
        "dJ/dW2",
        "dJt/dW2",
        "dJ/db2",
        "dJ/da2",
        "dJ/dz2",
        "dJ/dW1",
        "dJt/dW1",
        "dJ/db1",
    },
    "sigmoid-bce-1hidden": {
        "z1",
        "a1",
        "z2",
        "yhat",
        "dL/da2",
        "da2/dz2",
        "dL/dz2",
        "dL/dw2",
        "dL/db2",
        "dL/da1",
        "dL/dz1",
        "dL/dW1",
        "dL/db1",
        "dJ/dw2",
        "dJ/db2",
        "dJ/dW1",
        "dJ/db1",
    },
    "mlp-general": {"delta-L", "delta-l", "dC/dw", "dC/db"},
}


@pytest.mark.parametrize("problem_id", sorted(CONTRACT_IDS))
def test_every_contract_quantity_is_in_the_answer_key(problem_id):
    assert {q.id for q in load_problem(problem_id).quantities} == CONTRACT_IDS[problem_id]


def test_shipped_files_are_found():
    assert {p.stem for p in derivation_files()} >= set(CONTRACT_IDS)


@pytest.mark.parametrize(
    "problem_id, k, pre_label, weight_label",
    [
        ("softmax-2layer", 1, 2, 1),  # z^(2) = W^(1) a^(1) + b^(1)
        ("softmax-2layer", 2, 3, 2),
        ("sigmoid-bce-1hidden", 1, 1, 1),  # z^[1] = W^[1] x + b^[1]
        ("mlp-general", 3, 3, 3),
    ],
    ids=["softmax-layer1", "softmax-layer2", "sigmoid-layer1", "mlp-layer3"],
)
def test_layer_numbering(problem_id, k, pre_label, weight_label):
    """The [network] block's numbering, and the expanded model's equation z^{(pre)} = W^{(weight)} … that it means."""
    problem = load_problem(problem_id)
    notation, model = problem.shorthand.notation, problem.model
    assert (notation.pre_label(k), notation.weight_label(k)) == (pre_label, weight_label)
    z, W = model.family("z")[pre_label], model.family("W")[weight_label]
    assert W in model.ids_in(model.equation(z).rhs)


def test_numeric_sizes_are_all_different():
    for p in derivation_files():
        sizes = [v for _, v in load_problem_file(p).numeric_sizes]
        assert len(sizes) == len(set(sizes)), p


BROKEN = [
    ("activation = \"relu\"", "activation = \"swish\"", "unknown activation 'swish'"),
    ("loss = \"cross-entropy\"", "loss = \"hinge\"", "unknown loss 'hinge'"),
    ("[network]", "[network\n", "not valid TOML"),
    ("of = \"J\"\nwrt = \"z^{(3)}\"", "of = \"K\"\nwrt = \"z^{(3)}\"", "'of' must be one of"),
]


@pytest.mark.parametrize("old, new, message", BROKEN, ids=["activation", "loss", "toml", "objective"])
def test_broken_files_name_the_file_and_the_problem(tmp_path, old, new, message):
    text = (ROOT / "derivations" / "softmax-2layer.toml").read_text()
    assert old in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(DerivationFileError) as info:
        load_problem_file(bad)
    assert str(bad) in str(info.value) and message in str(info.value)


def test_missing_file():
    with pytest.raises(DerivationFileError, match="no such file"):
        load_problem_file("/nonexistent/key.toml")


def test_unknown_problem_and_quantity_name_themselves():
    with pytest.raises(UnknownProblemError, match="no-such-problem"):
        load_problem("no-such-problem")
    with pytest.raises(UnknownQuantityError, match="dJ/dW9"):
        load_problem("softmax-2layer").quantity("dJ/dW9")
