"""`serve --hide-feedback` and a key's `[grading] hide_feedback` (issue 23 item 6): before a
deadline the page shows ✓/✗ per line only, and the API itself holds back feedback, fixes and
scores (a student calling it directly learns no more); parts named as students see them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from symderiv.answerkey.problem import load_problem, load_problem_file
from symderiv.web import ServeConfig, create_app

ROOT = Path(__file__).resolve().parent.parent
BOB = (ROOT / "examples" / "softmax-bob.md").read_text(encoding="utf-8")
SOFTMAX = load_problem("softmax-2layer")
WITHHELD = ("feedback", "feedback_latex", "fixes", "numeric", "symbolic", "score", "points", "max_score", "check")


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


@pytest.fixture(scope="module")
def hidden():
    with TestClient(create_app(ServeConfig(workers=1, rate_limit=None, hide_feedback=True))) as c:
        yield c


@pytest.fixture(scope="module")
def per_key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    text = (ROOT / "derivations" / "softmax-2layer.toml").read_text(encoding="utf-8")
    text = text.replace("[grading]\n", "[grading]\nhide_feedback = true\n", 1)
    (folder / "softmax-2layer.toml").write_text(text, encoding="utf-8")
    assert load_problem_file(folder / "softmax-2layer.toml").hide_feedback
    with TestClient(create_app(ServeConfig(keys=folder, workers=1, rate_limit=None))) as c:
        yield c


@pytest.mark.parametrize("which", ["hidden", "per_key"])
@pytest.mark.parametrize(
    "route, body",
    [
        ("/api/view", {"problem": "softmax-2layer", "text": BOB}),
        ("/api/grade", {"problem": "softmax-2layer", "text": BOB}),
        (
            "/api/check",
            {"problem": "softmax-2layer", "quantity": "dJ/dz3", "claim": r"\frac{1}{N}(\Delta - \psi(z^{(3)}))"},
        ),
    ],
    ids=["view", "grade", "check"],
)
def test_before_the_deadline_only_marks_leave_the_server(request, which, route, body):
    client = request.getfixturevalue(which)
    got = client.post(route, json=body)
    assert got.status_code == 200, got.text
    data = got.json()
    assert not keys(data) & set(WITHHELD), keys(data) & set(WITHHELD)
    text = json.dumps(data, ensure_ascii=False)
    assert "regularisation" not in text and "sign is wrong" not in text and "Correct" not in text
    if route == "/api/view":
        marks = {line["line"]: line["mark"] for line in data["lines"]}
        assert marks[7] == "✗" and marks[4] == "✓"  # each line still says whether it holds
        assert all(line["messages"] == [] for line in data["lines"])
    if route == "/api/check":
        assert data["verdict"] == "incorrect" and data["hidden"] is True


def test_the_listing_names_parts_and_says_what_is_held_back(hidden):
    (softmax,) = [p for p in hidden.get("/api/problems").json()["problems"] if p["id"] == "softmax-2layer"]
    assert softmax["hide_feedback"] is True
    names = {q["id"]: q["name"] for q in softmax["quantities"]}
    assert names["dJt/dW2"] == "∂J̃/∂W⁽²⁾" and names["softmax-jacobian"] == "∂aᵢ⁽³⁾/∂zⱼ⁽³⁾"


def test_after_the_deadline_everything_is_shown():
    with TestClient(create_app(ServeConfig(workers=1, rate_limit=None))) as c:
        data = c.post("/api/view", json={"problem": "softmax-2layer", "text": BOB}).json()
    assert data["report"]["score"] == 2.0
    w2 = next(p for p in data["parts"] if p["quantity"] == "dJt/dW2")
    shown = next(p for p in data["report"]["parts"] if p["quantity"] == "dJt/dW2")
    assert w2["name"] == "∂J̃/∂W⁽²⁾" and w2["feedback"] == shown["feedback"] and "regularisation" in w2["feedback"]
    (line7,) = [line for line in data["lines"] if line["line"] == 7]
    assert line7["messages"][0]["text"].startswith("∂J̃/∂W⁽²⁾: ")
