"""`symderiv verify`: shipped answer keys pass both ways; deliberately wrong keys are rejected."""

import json
import subprocess
from pathlib import Path

import pytest

from symderiv.answerkey.problem import load_problem_file
from symderiv.grading.verify import verify_file

ROOT = Path(__file__).resolve().parent.parent
KEYS = ROOT / "derivations"


@pytest.fixture(scope="module")
def shipped():
    return {p.stem: verify_file(p) for p in sorted(KEYS.glob("*.toml"))}


def test_every_shipped_quantity_verifies_both_ways(shipped):
    results = [r for rs in shipped.values() for r in rs]
    assert len(results) == sum(len(load_problem_file(p).quantities) for p in KEYS.glob("*.toml")) >= 34
    for r in results:
        assert r.ok and r.numeric and r.symbolic, (r.quantity, r.message)
        assert r.gradcheck_max_rel_err <= 1e-7


WRONG = [
    # (file, old text, new text, quantity that must fail, words in the message)
    (
        "softmax-2layer",
        r"claim = '\frac{1}{N}(\psi(Z^{(3)}) - \Delta)'",
        r"claim = '\frac{1}{N}(\Delta - \psi(Z^{(3)}))'",
        "dJ/dz3",
        "sign",
    ),
    (
        "softmax-2layer",
        r"claim = '\frac{1}{N}(\psi(Z^{(3)}) - \Delta) A^{(2)T}'",
        r"claim = '(\psi(Z^{(3)}) - \Delta) A^{(2)T}'",
        "dJ/dW2",
        "1/N",
    ),
    ("softmax-2layer", r"A^{(2)T} + 2\lambda W^{(2)}'", r"A^{(2)T} + \lambda W^{(2)}'", "dJt/dW2", r"2\lambda W^{(2)}"),
    (
        "softmax-2layer",
        r"claim = '\frac{1}{N} W^{(2)T}(\psi(Z^{(3)}) - \Delta)'",
        r"claim = '\frac{1}{N} W^{(2)}(\psi(Z^{(3)}) - \Delta)'",
        "dJ/da2",
        "numerically",
    ),
    (
        "softmax-2layer",
        r"claim = '\frac{1}{N} W^{(2)T}(\psi(Z^{(3)}) - \Delta) \odot \mathbb{1}[Z^{(2)} > 0]'",
        r"claim = '\frac{1}{N} W^{(2)T}(\psi(Z^{(3)}) - \Delta)'",
        "dJ/dz2",
        "activation derivative",
    ),
    ("mlp-general", r"\sum_k w_{jk}^{(l+1)}", r"\sum_k w_{kj}^{(l+1)}", "delta-l", "numerically"),
    ("sigmoid-bce-1hidden", "claim = '10'", "claim = '30'", "z2", "not 30"),
    (
        "softmax-2layer",
        r"= \frac{1}{N}(a^{(3)} - \Delta)',",
        r"= \frac{1}{N}(a^{(3)} - \Delta) = \frac{1}{N}(a^{(3)} + \Delta)',",
        "dJ/dz3",
        "worked step",
    ),
]


@pytest.mark.parametrize(
    "stem, old, new, quantity, words",
    WRONG,
    ids=[
        "sign",
        "missing-1/N",
        "lambda-not-2lambda",
        "missing-transpose",
        "missing-relu",
        "w_kj-for-w_jk",
        "forward-arithmetic",
        "wrong-worked-step",
    ],
)
def test_wrong_derivations_are_rejected_naming_quantity_and_difference(tmp_path, stem, old, new, quantity, words):
    text = (KEYS / f"{stem}.toml").read_text()
    assert old in text, old
    bad = tmp_path / f"{stem}.toml"
    bad.write_text(text.replace(old, new, 1))
    results = {r.quantity: r for r in verify_file(bad)}
    assert not results[quantity].ok
    assert words in results[quantity].message
    assert all(r.ok for q, r in results.items() if q != quantity)


def test_cli_exits_1_and_marks_the_wrong_quantity(tmp_path):
    text = (KEYS / "sigmoid-bce-1hidden.toml").read_text().replace("claim = '10'", "claim = '30'", 1)
    bad = tmp_path / "sigmoid.toml"
    bad.write_text(text)
    proc = subprocess.run(["symderiv", "verify", str(bad)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert any(" z2 " in line and line.startswith("✗") for line in proc.stdout.splitlines())
    assert "30/31" not in proc.stdout and "16/17 quantities verified" in proc.stdout


def test_json_output_has_the_contract_fields(tmp_path):
    proc = subprocess.run(
        ["symderiv", "verify", "--json", str(KEYS / "mlp-general.toml")], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {r["quantity"] for r in rows} == {"delta-L", "delta-l", "dC/dw", "dC/db"}
    for r in rows:
        assert {
            "problem",
            "quantity",
            "ok",
            "symbolic",
            "numeric",
            "gradcheck_max_rel_err",
            "seconds",
            "message",
        } <= set(r)
        assert r["symbolic"] is True and r["numeric"] is True


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "no such file"),
        ("[problem\nid=", "not valid TOML"),
        ("\x00\x01binary", "not valid TOML"),
    ],
    ids=["missing", "bad-toml", "binary"],
)
def test_unusable_input_is_one_line_naming_the_file(tmp_path, content, words):
    path = tmp_path / "key.toml"
    if content is not None:
        path.write_text(content)
    proc = subprocess.run(["symderiv", "verify", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and words in lines[0]


def test_bad_latex_in_a_key_names_file_and_line(tmp_path):
    text = (
        (KEYS / "softmax-2layer.toml")
        .read_text()
        .replace(
            r"claim = '\frac{1}{N}(\psi(Z^{(3)}) - \Delta)'",
            r"claim = '\frac{1}{N}(\psi(Z^{(3)}) - \Delta \input{x}'",
            1,
        )
    )
    path = tmp_path / "key.toml"
    path.write_text(text)
    proc = subprocess.run(["symderiv", "verify", str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{path}:" in proc.stderr and "dJ/dz3" in proc.stderr
