"""Issue 10: check_claim never raises for any claim string (a bounded sample; the full run of
more than 10,000 claims is benchmarks/fuzz_claims.py)."""

from __future__ import annotations

from claim_fuzz import CLAIMS, TARGETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symderiv.judging.check import check_claim
from symderiv.judging.verdict import Verdict

VERDICTS = {"correct", "correct-up-to-layout", "incorrect", "unparseable", "undecided"}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(target=st.sampled_from(TARGETS), claim=CLAIMS)
def test_check_claim_never_raises(target, claim):
    problem, quantity = target
    verdict = check_claim(problem, quantity, claim, symbolic=False)
    assert isinstance(verdict, Verdict) and verdict.verdict in VERDICTS
    assert verdict.feedback
