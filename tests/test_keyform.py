"""Where a claim written like the key's closed form differs from it (symderiv/judging/keyform.py):
the parts found, each of the kind a grader names it by. Syntax only: whether the claim with the key's
part put in is right is the checker's business (tests/test_named_mistakes.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symderiv.judging.keyform import differences
from symderiv.notation.latex import to_latex
from symderiv.notation.parse import parse


def same(a, b):
    return a == b


CASES = [
    pytest.param(r"X(\hat y - y)^T", r"X(\hat y - y)^T", [], id="same"),
    pytest.param(r"X(z - y)^T", r"X(\hat y - y)^T", [("replaced", "z", r"\hat{y}")], id="variable"),
    pytest.param(r"X \hat y^T", r"X(\hat y - y)^T", [("missing-term", r"\hat{y}", r"\hat{y} - y")], id="missing-term"),
    pytest.param(
        r"a \odot b",
        r"\gamma \odot a \odot b",
        [("missing-factor", "a \\odot b", "\\gamma \\odot a \\odot b")],
        id="missing-factor",
    ),
    pytest.param(r"\gamma \odot a", r"a", [("extra-factor", "\\gamma \\odot a", "a")], id="extra-factor"),
    pytest.param(
        r"\gamma \odot (v + \epsilon)^{-1}",
        r"\gamma \odot (v + \epsilon)^{-1/2}",
        [("replaced", r"\left(v + \epsilon\right)^{-1}", r"\left(v + \epsilon\right)^{-\frac{1}{2}}")],
        id="power",
    ),
    pytest.param(
        r"A h_0^T + B h_1^T",
        r"A h_1^T + B h_0^T",
        [("replaced", "h_{0}", "h_{1}"), ("replaced", "h_{1}", "h_{0}")],
        id="two-swapped",
    ),
    pytest.param(r"a - b", r"a + b", [("sign", "-b", "b")], id="sign"),
    pytest.param(
        r"\begin{cases} r & |r| \le \delta \\ \delta & \text{otherwise} \end{cases}",
        r"\begin{cases} r & |r| \le \delta \\ \delta\,\mathrm{sign}(r) & \text{otherwise} \end{cases}",
        [("missing-factor", r"\delta", r"\delta \operatorname{sign}\left(r\right)")],
        id="a-case-of-cases",
    ),
]


@pytest.mark.parametrize("claim, key, expected", CASES)
def test_differences_found(claim, key, expected):
    found = differences(parse(claim), parse(key), same)
    assert [(d.kind, to_latex(d.claim), to_latex(d.key)) for d in found] == expected


@pytest.mark.parametrize(
    "claim, key",
    [
        pytest.param(r"a + b", r"c d e f g h i j k", id="a-different-answer"),
        pytest.param(r"a b c d", r"e f g h", id="four-places"),
        pytest.param(r"W^T \delta", r"\frac{1}{N} X (\hat y - y)^T", id="the-whole-claim"),
    ],
)
def test_no_single_slip(claim, key):
    """More than a few places, or a part larger than half the claim: a different answer, not a slip."""
    assert differences(parse(claim), parse(key), same) is None


LETTERS = st.sampled_from(["a", "b", "c", "W", "x", r"\gamma"])


@given(st.lists(LETTERS, min_size=1, max_size=5), st.integers(0, 4), LETTERS)
def test_putting_the_keys_parts_in_gives_the_key(factors, k, other):
    """Whatever the slip, the claim with the key's part at each place found is the key."""
    from symderiv.judging.edits import put_at

    key = parse(" ".join(factors))
    claim_factors = list(factors)
    claim_factors[k % len(factors)] = other
    claim = parse(" ".join(claim_factors))
    found = differences(claim, key, same)
    if found is None:
        return
    for d in found:
        claim = put_at(claim, d.path, d.key)
    assert claim == key
