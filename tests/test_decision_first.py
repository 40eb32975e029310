"""The cheap path to a decision: the key's own claims proven once (prepare_problem), a decision
without an explanation (explain=False), and the memos under them (a node's hash, its LaTeX, a
parsed claim), none of which may change a verdict."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from symderiv import check_claim
from symderiv.answerkey.problem import load_problem
from symderiv.core.errors import ParseError
from symderiv.core.tree import Num, Product, Sym
from symderiv.judging import exact
from symderiv.judging.check import prepare_problem
from symderiv.notation.latex import latex_style, to_latex
from symderiv.notation.parse import parse
from symderiv.truth import prepared

SM = "softmax-2layer"
DZ3 = r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)"

DECISIONS = [
    ("right", SM, "dJ/dz3", DZ3, "correct"),
    ("right-other-spelling", SM, "dJ/dz3", r"\frac{1}{N}(\Psi(Z^{[3]}) - \Delta)", "correct"),
    ("layout", SM, "dJt/dW2", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)^T A^{(2)} + 2\lambda W^{(2)}", None),
    ("sign", SM, "dJ/dz3", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))", "incorrect"),
    ("missing-regulariser", SM, "dJt/dW2", DZ3 + r"a^{(2)T}", "incorrect"),
    ("wrong-size", SM, "dJ/dz3", r"\Delta^T", "incorrect"),
    ("entrywise", SM, "dJ/dW2", r"\frac{1}{N}\sum_n (\psi(z^{(3)})_{in} - \Delta_{in}) a^{(2)}_{jn}", "correct"),
    ("entrywise-wrong", SM, "dJ/dW2", r"\frac{1}{N}\sum_n (\psi(z^{(3)})_{jn} - \Delta_{jn}) a^{(2)}_{jn}", None),
    ("unreadable", SM, "dJ/dz3", r"\frac{1}{N}(\psi(", "unparseable"),
    ("model-key-sign", "logreg-l2", "dJt/dw", r"-\frac{1}{N}X^T(\hat y - y) - \lambda w", "incorrect"),
]


@pytest.mark.parametrize(
    "problem, quantity, claim, expected", [r[1:] for r in DECISIONS], ids=[r[0] for r in DECISIONS]
)
def test_a_decision_alone_is_the_explained_verdicts_decision(problem, quantity, claim, expected):
    explained = check_claim(problem, quantity, claim)
    decided = check_claim(problem, quantity, claim, explain=False)
    assert decided.verdict == explained.verdict
    if expected is not None:
        assert decided.verdict == expected
    if decided.accepted:  # an acceptance is checked exactly, explained or not
        assert decided.symbolic.status == explained.symbolic.status == "equal"
        assert decided.feedback == explained.feedback


def test_a_rejection_without_explanation_says_so_and_names_nothing():
    v = check_claim(SM, "dJ/dz3", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))", explain=False)
    assert (v.verdict, v.diagnosis, v.symbolic.status) == ("incorrect", None, "skipped")
    assert "not named" in v.feedback
    assert "decision" in v.symbolic.detail


def test_the_cli_decides_only_when_asked(capsys):
    from symderiv.cli import main

    assert main(["check", "--decide-only", SM, "dJ/dz3", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))"]) == 1
    assert "not named" in capsys.readouterr().out
    assert main(["check", SM, "dJ/dz3", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))"]) == 1
    assert "sign is wrong" in capsys.readouterr().out


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMDERIV_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SYMDERIV_CACHE", "1")
    exact._MEMO.clear()
    prepared.forget()
    yield tmp_path
    exact._MEMO.clear()
    prepared.forget()


def test_prepare_problem_proves_every_key_claim(fresh_cache):
    problem = load_problem("sigmoid-bce-1hidden")
    assert prepare_problem(problem) == sum(q.kind != "value" for q in problem.quantities)


@pytest.mark.parametrize(
    "claim",
    [DZ3, r"\frac{1}{N}(\Psi(z^{[3]}) - \Delta)", "\\frac{1}{N}(ψ(z^{(3)}) − Δ)", r"1/N (\psi(z_3) - \Delta)"],
    ids=["as-the-key", "Psi-brackets", "unicode", "slash"],
)
def test_a_claim_that_normalises_to_the_keys_is_decided_by_the_keys_proof(fresh_cache, monkeypatch, claim):
    prepare_problem(SM)
    ran = []
    original = exact.start_worker_check
    monkeypatch.setattr(exact, "start_worker_check", lambda *a: ran.append(a) or original(*a))
    v = check_claim(SM, "dJ/dz3", claim)
    assert v.verdict == "correct" and v.symbolic.status == "equal"
    assert ran == []


def test_a_claim_that_does_not_normalise_to_the_keys_still_runs_sympy(fresh_cache, monkeypatch):
    prepare_problem(SM)
    ran = []
    original = exact.start_worker_check
    monkeypatch.setattr(exact, "start_worker_check", lambda *a: ran.append(a) or original(*a))
    v = check_claim(SM, "dJ/dz3", r"\frac{1}{N}\psi(z^{(3)}) - \frac{1}{N}\Delta")
    assert v.verdict == "correct" and v.symbolic.status == "equal"
    assert len(ran) == 1


NODES = [
    ("symbol", Sym("W", Num(2))),
    ("product", Product((Num(2), Sym("lambda"), Sym("W", Num(2))), ("juxt", "juxt"))),
    ("parsed", parse(DZ3)),
]


@pytest.mark.parametrize("node", [r[1] for r in NODES], ids=[r[0] for r in NODES])
def test_a_nodes_remembered_hash_is_its_fields_hash_and_stays_out_of_pickles(node):
    first = hash(node)
    assert hash(node) == first
    copy = pickle.loads(pickle.dumps(node))
    assert "_hash" not in copy.__dict__
    assert copy == node and hash(copy) == first


def test_a_changed_copy_is_hashed_afresh():
    node = Sym("W", Num(2))
    hash(node)
    other = replace(node, layer=Num(1))
    assert other != node and hash(other) == hash(Sym("W", Num(1)))


def test_remembered_latex_follows_the_style():
    node = Sym("W", Num(2))
    with latex_style(layer_brackets="()"):
        round_ = to_latex(node)
    with latex_style(layer_brackets="[]"):
        square = to_latex(node)
    assert (round_, square) == ("W^{(2)}", "W^{[2]}")


def test_a_remembered_parse_is_the_same_tree_and_an_error_is_raised_every_time():
    assert parse(DZ3) is parse(DZ3)
    for _ in range(2):
        with pytest.raises(ParseError):
            parse(r"\frac{1}{")


def test_the_exact_check_of_a_rejection_runs_while_its_mistake_is_named(fresh_cache, monkeypatch):
    from symderiv.judging import check

    order = []
    original_start, original_diagnose = exact.start_worker_check, check.diagnose_mistake

    def start(*args):
        order.append("started")
        finish = original_start(*args)
        return lambda: order.append("finished") or finish()

    monkeypatch.setattr(exact, "start_worker_check", start)
    monkeypatch.setattr(check, "diagnose_mistake", lambda *a: order.append("diagnosed") or original_diagnose(*a))
    v = check_claim(SM, "dJ/dz3", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))")
    assert (v.diagnosis, v.symbolic.status) == ("sign", "different")
    assert order == ["started", "diagnosed", "finished"]


def test_a_failing_diagnosis_still_collects_the_started_check(fresh_cache, monkeypatch):
    from symderiv.judging import check

    finished = []
    original_start = exact.start_worker_check

    def start(*args):
        finish = original_start(*args)
        return lambda: finished.append(True) or finish()

    def broken(*args):
        raise RuntimeError("a bug in a diagnosis")

    monkeypatch.setattr(exact, "start_worker_check", start)
    monkeypatch.setattr(check, "diagnose_mistake", broken)
    v = check_claim(SM, "dJ/dz3", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))")
    assert v.verdict == "undecided" and "a bug in a diagnosis" in v.review
    assert finished == [True]


def _spin(problem):
    while True:
        pass


def test_a_key_whose_set_up_does_not_finish_gets_no_proofs_and_no_hang(fresh_cache, monkeypatch):
    import time

    from symderiv.runtime import limits

    # the set-up's worker runs a set-up that never ends (an idle worker may predate any patch of
    # prepare itself, so the function sent is replaced)
    monkeypatch.setattr(prepared, "run_limited", lambda fn, args, timeout: limits.run_limited(_spin, args, timeout))
    start = time.monotonic()
    assert prepare_problem("sigmoid-bce-1hidden", timeout=0.5) == 0
    assert time.monotonic() - start < 15
