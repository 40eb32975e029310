r"""Tests of grading: which part each claim answers, its verdict, its line, and the flagged steps.

The fixtures in ``fixtures/submissions/`` are whole submissions in the styles students
hand in (samples as columns, as rows, one sample; LaTeX and Unicode; clean and OCR'd)
with planted mistakes and planted wrong steps. Line numbers are 1-based lines of those
files: ``_at`` checks that the line still holds what the test thinks it holds, so an edit
to a fixture fails loudly instead of silently testing another line.

Grading gaps these tests found stay as regression tests once fixed; open ones are
``xfail(strict=True)`` entries whose reason names the gap. The CLI tests run the installed
``symderiv`` in its own process group and kill the group if it hangs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
from functools import cache
from pathlib import Path

import pytest

from symderiv.answerkey.problem import load_problem
from symderiv.grading.grade import grade_text
from symderiv.grading.names import quantity_name
from symderiv.grading.results import GradeConfig

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
NUMERIC = GradeConfig(symbolic=False)  # fast: the numeric check only
ACCEPT = {"correct", "correct-up-to-layout"}
SOFTMAX_PARTS = ["dJ/dz3", "dJt/dW2", "dJt/dW1", "dJ/db1", "dJ/db2"]


@cache
def graded(name: str, problem: str) -> dict:
    """The numeric-only grade of a fixture, as the JSON dict (graded once per run)."""
    path = FIXTURES / name
    return grade_text(path.read_text(encoding="utf-8"), problem, file=str(path), config=NUMERIC).to_dict()


def part(report: dict, quantity: str) -> dict:
    found = [p for p in report["parts"] if p["quantity"] == quantity]
    assert len(found) == 1, f"{quantity}: {len(found)} parts in {[p['quantity'] for p in report['parts']]}"
    return found[0]


def flagged(report: dict) -> list[dict]:
    return [s for s in report["steps"] if not s["ok"]]


def _at(name: str, line: int, text: str) -> None:
    """Fixture `name` has `text` on its 1-based line `line`."""
    lines = (FIXTURES / name).read_text(encoding="utf-8").split("\n")
    assert text in lines[line - 1], f"{name}:{line} is {lines[line - 1]!r}, expected it to contain {text!r}"


def xfail(*values, reason: str, id: str):
    return pytest.param(*values, id=id, marks=pytest.mark.xfail(reason=reason, strict=True))


def _symderiv(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed CLI in its own process group; on a timeout kill the whole group
    (a hung ProcessPoolExecutor leaves grandchildren behind) and fail the test."""
    proc = subprocess.Popen(
        ["symderiv", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=None if env is None else {**os.environ, **env},
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"symderiv {' '.join(args[:6])} … did not exit within {timeout:g} s")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# ======================================================================= 1. samples as columns, all right

COLUMNS = "softmax_columns_correct.md"

COLUMNS_PARTS = [
    # quantity, verdict, line, text on that line
    ("dJ/dz3", "correct", 12, r"= \frac{1}{N}(\psi(Z^{(3)}) - \Delta)$$"),
    ("dJt/dW2", "correct", 19, r"&= \frac{1}{N}\psi(Z^{(3)}) A^{(2)T} - \frac{1}{N}\Delta A^{(2)T}"),
    ("dJt/dW1", "correct", 33, r"X^{T} + 2\lambda W^{(1)}"),
    ("dJ/db1", "correct", 36, r"\frac{\partial J}{\partial b^{(1)}}"),
    ("dJ/db2", "correct", 22, r"\frac{\partial J}{\partial b^{(2)}}"),
    ("softmax-jacobian", "correct", 8, r"a_i^{(3)}(\delta_{ij} - a_j^{(3)})"),
    ("dJ/da2", "correct", 26, r"\frac{1}{N} W^{(2)T}(\psi(Z^{(3)}) - \Delta)$$"),
    ("dJ/dz2", "correct", 28, r"\odot \mathbb{1}[Z^{(2)} > 0]$$"),
]


@pytest.mark.parametrize("quantity, verdict, line, text", COLUMNS_PARTS, ids=[r[0] for r in COLUMNS_PARTS])
def test_columns_parts(quantity, verdict, line, text):
    _at(COLUMNS, line, text)
    p = part(graded(COLUMNS, "softmax-2layer"), quantity)
    assert (p["verdict"], p["line"]) == (verdict, line), p["feedback"]
    assert "samples as columns" in p["feedback"] or quantity == "softmax-jacobian"
    assert p["first_wrong_line"] is None


def test_columns_no_step_flagged_and_steps_were_checked():
    report = graded(COLUMNS, "softmax-2layer")
    assert [s for s in report["steps"] if not s["ok"]] == []
    assert report["score"] == report["max_score"] == 5.0
    # the chains were really checked: ∂J/∂Z = ∂J/∂A ∂A/∂Z = (A − Δ)/N = (ψ − Δ)/N on line 12,
    # the expanded form on line 19, the 1/N moved out and X for A(1) on line 33
    lines = [s["line"] for s in report["steps"]]
    assert lines.count(12) >= 2 and 19 in lines and 33 in lines
    step_19 = [s for s in report["steps"] if s["line"] == 19 and s["quantity"] == "dJt/dW2"]
    assert any(r"\Delta A^{(2)T}" in s["right"] for s in step_19)


# ======================================================================= 2. samples as rows, sign error, wrong steps

ROWS = "softmax_rows_sign.md"

ROWS_PARTS = [
    ("dJ/dz3", "incorrect", 15, "sign", r"\frac{1}{N}(\Delta - \psi(Z^{(3)}))"),
    (
        "dJt/dW2",
        "correct",
        22,
        "samples as rows",
        r"&= \frac{1}{N}(\psi(Z^{(3)}) - \Delta)^T A^{(2)} + 2\lambda W^{(2)}",
    ),
    ("dJt/dW1", "correct", 33, "samples as rows", r"\right)^T X + 2\lambda W^{(1)}"),
    ("dJ/db1", "correct", 35, "samples as rows", r"\right)^T \mathbf{1}_N"),
    ("dJ/db2", "correct", 25, "samples as rows", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta)^T \mathbf{1}_N"),
    ("dJ/da2", "correct", 29, "samples as rows", r"\frac{1}{N}(\psi(Z^{(3)}) - \Delta) W^{(2)}$$"),
    ("dJ/dz2", "correct", 31, "samples as rows", r"W^{(2)} \odot \mathbb{1}[Z^{(2)} > 0]$$"),
]


@pytest.mark.parametrize("quantity, verdict, line, words, text", ROWS_PARTS, ids=[r[0] for r in ROWS_PARTS])
def test_rows_parts(quantity, verdict, line, words, text):
    _at(ROWS, line, text)
    p = part(graded(ROWS, "softmax-2layer"), quantity)
    assert (p["verdict"], p["line"]) == (verdict, line), p["feedback"]
    assert words in p["feedback"].lower() or words in p["feedback"]


ROWS_STEPS = [
    # line, flagged?, text on the line, text in the message of a flagged step there
    (7, False, r"\frac{1}{N}(A^{(3)} - \Delta)$$", None),
    (9, True, r"$$= \frac{1}{N}(\psi - 1)$$", r"\psi - 1"),
    (15, True, r"\frac{1}{N}(\Delta - \psi(Z^{(3)}))", "sign"),
    (21, True, r"+ \lambda W^{(2)} \\", r"2\lambda W^{(2)}"),
    (25, False, r"\mathbf{1}_N", None),
    (33, False, r"2\lambda W^{(1)}", None),
    (35, False, r"\mathbf{1}_N", None),
]


@pytest.mark.parametrize("line, is_flagged, text, message", ROWS_STEPS, ids=[f"line{r[0]}" for r in ROWS_STEPS])
def test_rows_flagged_lines(line, is_flagged, text, message):
    _at(ROWS, line, text)
    report = graded(ROWS, "softmax-2layer")
    assert any(s["line"] == line for s in report["steps"]), f"no step checked on line {line}"
    bad = [s for s in flagged(report) if s["line"] == line]
    assert bool(bad) == is_flagged, bad
    if message:
        assert any(message in s["message_latex"] for s in bad), [s["message_latex"] for s in bad]


def test_rows_first_wrong_lines():
    report = graded(ROWS, "softmax-2layer")
    # the chain of (a) goes wrong at the planted `= (ψ − 1)/N`, (b) at the planted λW line,
    # even though (b)'s final answer is right
    assert part(report, "dJ/dz3")["first_wrong_line"] == 9
    assert part(report, "dJt/dW2")["first_wrong_line"] == 21
    assert part(report, "dJt/dW2")["verdict"] == "correct"
    assert report["score"] == 4.0


# ======================================================================= 3. one sample, Unicode, OCR noise

UNICODE = "softmax_sample_unicode_ocr.md"

UNICODE_PARTS = [
    # quantity, verdict, line, words the feedback must contain, text on the line
    ("dJ/dz3", "incorrect", 5, "1/N", "=   ψ(z^{(3)}) − Δ$$"),
    ("dJt/dW2", "correct", 9, "Correct", r"\left( ψ(z^3) − Δ \right) a^{2}ᵀ + 2λ W^{(2)}"),
    ("dJ/db2", "correct", 11, "Correct", r"\frac{1}{N}(ψ(z^{(3)}) − Δ$$"),
    ("dJ/dz2", "correct", 15, "Correct", "W(2)^T (ψ(z^{(3)}) − Δ) ⊙ 1[z^{(2)} > 0]"),
    ("dJt/dW1", "incorrect", 17, "2λ", "xᵀ + λ W^{(1)}"),
    ("dJ/db1", "incorrect", 19, "activation derivative", r"\frac{1}{N} W(2)^T  (ψ(z^{(3)})  − Δ)$$"),
]


@pytest.mark.parametrize("quantity, verdict, line, words, text", UNICODE_PARTS, ids=[r[0] for r in UNICODE_PARTS])
def test_unicode_ocr_parts(quantity, verdict, line, words, text):
    _at(UNICODE, line, text)
    p = part(graded(UNICODE, "softmax-2layer"), quantity)
    assert (p["verdict"], p["line"]) == (verdict, line), p["feedback"]
    assert words in p["feedback"], p["feedback"]


def test_unicode_ocr_flagged_lines_are_the_wrong_parts():
    report = graded(UNICODE, "softmax-2layer")
    assert sorted({s["line"] for s in flagged(report)}) == [5, 17, 19]
    assert report["score"] == 2.0


# ======================================================================= 4. sigmoid + BCE: forward pass and derivatives

SIGMOID = "sigmoid_xnor_and_bce.md"

SIGMOID_PARTS = [
    ("z1", "correct", 5, r"\begin{bmatrix} -70 \\ 50 \end{bmatrix}$$"),
    ("a1", "correct", 7, r"\approx \begin{bmatrix} 0 \\ 1 \end{bmatrix}$$"),
    ("z2", "incorrect", 11, r"$$= 20 \times 0 + 20 \times 1 - 10 = 20$$"),
    ("yhat", "correct", 13, r"\sigma(10) \approx 1$$"),
    ("dL/da2", "correct", 17, r"\frac{a^{[2]} - y}{a^{[2]}(1-a^{[2]})}$$"),
    ("da2/dz2", "correct", 19, r"= a^{[2]}(1 - a^{[2]})$$"),
    ("dL/dz2", "correct", 21, r"= a^{[2]} - y$$"),
    ("dL/dw2", "correct", 23, r"(a^{[2]} - y) a^{[1]T}$$"),
    ("dL/db2", "correct", 25, r"\frac{\partial L}{\partial b^{[2]}} = a^{[2]} - y$$"),
    ("dL/da1", "correct", 27, r"(a^{[2]} - y) w^{[2]T}$$"),
    ("dL/dz1", "correct", 29, r"\odot \mathbb{1}\{z^{[1]} > 0\}$$"),
    ("dL/dW1", "correct", 31, r"\right) x^T$$"),
    ("dL/db1", "correct", 33, r"\frac{\partial L}{\partial b^{[1]}}"),
    ("dJ/dw2", "correct", 37, r"\frac{1}{N}(A^{[2]} - Y) A^{[1]T}$$"),
    ("dJ/db2", "correct", 39, r"\frac{1}{N}(A^{[2]} - Y)\mathbf{1}_N$$"),
    ("dJ/dW1", "correct", 41, r"\right) X^T$$"),
    ("dJ/db1", "incorrect", 43, r"\frac{1}{N}\left(w^{[2]T}(A^{[2]} - Y)\right)\mathbf{1}_N$$"),
]


@pytest.mark.parametrize("quantity, verdict, line, text", SIGMOID_PARTS, ids=[r[0] for r in SIGMOID_PARTS])
def test_sigmoid_parts(quantity, verdict, line, text):
    _at(SIGMOID, line, text)
    p = part(graded(SIGMOID, "sigmoid-bce-1hidden"), quantity)
    assert (p["verdict"], p["line"]) == (verdict, line), p["feedback"]


def test_sigmoid_feedback_names_the_mistakes():
    report = graded(SIGMOID, "sigmoid-bce-1hidden")
    z2 = quantity_name(load_problem("sigmoid-bce-1hidden"), "z2")  # named as the key's notation writes it
    assert f"{z2} is 10, not 20" in part(report, "z2")["feedback"] and z2 == "z^[2]"
    assert "activation derivative" in part(report, "dJ/db1")["feedback"]
    assert "0.999955" in part(report, "yhat")["feedback"]  # σ(10), within 1e-3 of ≈ 1


def test_sigmoid_arithmetic_slip_is_flagged_on_its_line():
    report = graded(SIGMOID, "sigmoid-bce-1hidden")
    assert sorted({s["line"] for s in flagged(report)}) == [11, 43]
    slip = [s for s in flagged(report) if s["line"] == 11]
    assert [s["message_latex"] for s in slip] == [r"20 \times 0 + 20 \times 1 - 10 ≠ 20"]
    # the forward-pass lines before and after the slip were checked and hold
    ok_lines = {s["line"] for s in report["steps"] if s["ok"]}
    assert {5, 7, 11, 13} <= ok_lines


# ======================================================================= 5. index notation (mlp-general)

MLP = [
    # fixture, quantity, verdict, line, words in the feedback
    ("mlp_index_correct.md", "delta-L", "correct", 7, "Correct"),
    ("mlp_index_correct.md", "delta-l", "correct", 11, "Correct"),
    ("mlp_index_correct.md", "dC/dw", "correct", 15, "Correct"),
    ("mlp_index_correct.md", "dC/db", "correct", 17, "Correct"),
    ("mlp_index_wkj.md", "delta-L", "correct", 7, "Correct"),
    ("mlp_index_wkj.md", "delta-l", "incorrect", 11, "w_{jk}^{(l + 1)}"),
    ("mlp_index_wkj.md", "dC/dw", "incorrect", 15, "swapped"),
    ("mlp_index_wkj.md", "dC/db", "correct", 17, "Correct"),
]


@pytest.mark.parametrize(
    "name, quantity, verdict, line, words", MLP, ids=[f"{r[0].split('_')[-1][:-3]}-{r[1]}" for r in MLP]
)
def test_mlp_index_notation(name, quantity, verdict, line, words):
    p = part(graded(name, "mlp-general"), quantity)
    assert (p["verdict"], p["line"]) == (verdict, line), p["feedback"]
    assert words in p["feedback_latex"]  # the checker's text; `feedback` is its Unicode rendering


def test_mlp_fixtures_differ_only_where_planted():
    _at("mlp_index_correct.md", 11, r"\sum_k w_{jk}^{(l+1)} \delta_k^{(l+1)} g_l'(z_j^{(l)})$$")
    _at("mlp_index_wkj.md", 11, r"\sum_k w_{kj}^{(l+1)} \delta_k^{(l+1)} g_l'(z_j^{(l)})$$")
    _at("mlp_index_wkj.md", 15, r"= a_j^{(l-1)} \delta_i^{(l)}$$")
    right, wrong = graded("mlp_index_correct.md", "mlp-general"), graded("mlp_index_wkj.md", "mlp-general")
    assert flagged(right) == []
    assert sorted({s["line"] for s in flagged(wrong)}) == [11, 15]


# ======================================================================= 6. missing and unparseable parts

GARBLED = "softmax_missing_garbled.md"

GARBLED_PARTS = [
    ("dJ/dz3", "correct", 3),
    ("dJt/dW2", "unparseable", 9),
    ("dJt/dW1", "correct", 15),
    ("dJ/db1", "missing", None),
    ("dJ/db2", "correct", 11),
]


@pytest.mark.parametrize("quantity, verdict, line", GARBLED_PARTS, ids=[r[0] for r in GARBLED_PARTS])
def test_missing_and_garbled_parts(quantity, verdict, line):
    p = part(graded(GARBLED, "softmax-2layer"), quantity)
    assert (p["verdict"], p["line"]) == (verdict, line), p["feedback"]
    if verdict == "unparseable":
        _at(GARBLED, 9, r"( \psi ^^ ) @@ #")
        assert p["feedback"].startswith("Line 9 cannot be read:")
        assert "unexpected character '@'" in p["feedback"]  # the reason
        assert p["points"] == 0
    if verdict == "missing":
        assert p["claim"] == "" and p["points"] == 0 and "∂J/∂b⁽¹⁾" in p["feedback"] and "dJ/db1" not in p["feedback"]


def test_garbled_submission_is_still_scored():
    report = graded(GARBLED, "softmax-2layer")
    assert report["score"] == 3.0 and report["max_score"] == 5.0
    assert "error" not in report


# ======================================================================= 7. bad files through the CLI


def test_cli_bad_files(tmp_path):
    good = FIXTURES / GARBLED
    missing = tmp_path / "never-handed-in.md"
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\n\x00\x01\x02\xff\xfe" * 50)
    noise = tmp_path / "noise.md"
    noise.write_bytes(bytes(range(1, 32)) * 40)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    files = [good, missing, empty, binary, noise, folder]
    proc = _symderiv("grade", "--key", "softmax-2layer", "--json", "--no-symbolic", *map(str, files))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert [o["file"] for o in out] == [str(f) for f in files]
    assert "error" not in out[0] and len(out[0]["parts"]) == 5 and out[0]["score"] == 3.0
    reasons = {}
    for f, o in zip(files[1:], out[1:]):
        assert o["error"].startswith(str(f)), o["error"]
        assert "\n" not in o["error"]
        assert o["parts"] == [] and o["score"] == 0
        assert str(f) in proc.stderr
        reasons[f.name] = o["error"][len(str(f)) :]
    assert "no such file" in reasons["never-handed-in.md"]
    assert "empty" in reasons["empty.md"]
    assert "binary" in reasons["scan.pdf"] and "binary" in reasons["noise.md"]
    assert "directory" in reasons["a-folder"]


def test_cli_all_good_files_exit_0():
    proc = _symderiv("grade", "--key", "softmax-2layer", "--json", "--no-symbolic", str(FIXTURES / COLUMNS))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)[0]["score"] == 5.0


def _encodings():
    text = (FIXTURES / ROWS).read_text(encoding="utf-8")
    return [
        pytest.param(text.replace("\n", "\r\n").encode("utf-8"), id="crlf"),
        pytest.param(text.replace("\n", "\r").encode("utf-8"), id="cr"),
        pytest.param(b"\xef\xbb\xbf" + text.encode("utf-8"), id="utf8-bom"),
        pytest.param(text.encode("utf-16"), id="utf16-bom"),
    ]


@pytest.mark.parametrize("data", _encodings())
def test_cli_line_numbers_survive_line_endings_and_encodings(tmp_path, data):
    sub = tmp_path / "sub.md"
    sub.write_bytes(data)
    proc = _symderiv("grade", "--key", "softmax-2layer", "--json", "--no-symbolic", str(sub))
    (obj,) = json.loads(proc.stdout)
    assert "error" not in obj, obj.get("error")
    want = graded(ROWS, "softmax-2layer")
    assert [(p["quantity"], p["verdict"], p["line"]) for p in obj["parts"]] == [
        (p["quantity"], p["verdict"], p["line"]) for p in want["parts"]
    ]
    assert [(s["line"], s["ok"]) for s in obj["steps"]] == [(s["line"], s["ok"]) for s in want["steps"]]


def test_cli_layout_credit(tmp_path):
    sub = tmp_path / "layout.md"
    sub.write_text(
        r"$$\frac{\partial \tilde J}{\partial W^{(2)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)a^{(2)}"
        r" + 2\lambda W^{(2)}$$" + "\n",
        encoding="utf-8",
    )
    for credit, points in (("0.75", 0.75), ("0.5", 0.5)):
        proc = _symderiv(
            "grade", "--key", "softmax-2layer", "--json", "--no-symbolic", "--layout-credit", credit, str(sub)
        )
        p = part(json.loads(proc.stdout)[0], "dJt/dW2")
        assert p["verdict"] == "correct-up-to-layout" and p["points"] == points
        assert "transpose" in p["feedback"]


# ======================================================================= 8. the JSON of problems.md and the CSV


def test_json_shape_and_lines():
    proc = _symderiv("grade", "--key", "softmax-2layer", "--json", "--no-symbolic", str(FIXTURES / ROWS))
    assert proc.returncode == 0, proc.stderr
    (obj,) = json.loads(proc.stdout)
    assert {"file", "problem", "score", "max_score", "parts", "steps"} <= set(obj)
    assert obj["file"] == str(FIXTURES / ROWS) and obj["problem"] == "softmax-2layer"
    assert isinstance(obj["score"], (int, float)) and obj["max_score"] == 5
    assert [p["quantity"] for p in obj["parts"]][:5] == SOFTMAX_PARTS
    for p in obj["parts"]:
        assert {"quantity", "verdict", "claim", "line", "feedback"} <= set(p)
        assert p["verdict"] in ACCEPT | {"incorrect", "unparseable", "missing"}
        assert isinstance(p["line"], int) and isinstance(p["claim"], str) and p["feedback"]
    for s in obj["steps"]:
        assert {"line", "ok", "message"} <= set(s)
        assert isinstance(s["line"], int) and isinstance(s["ok"], bool) and s["message"]
    # `line` is the 1-based line the claim starts on: the third row of the aligned block of (b)
    lines = (FIXTURES / ROWS).read_text(encoding="utf-8").split("\n")
    by_q = {p["quantity"]: p for p in obj["parts"]}
    assert by_q["dJt/dW2"]["line"] == 22
    assert lines[22 - 1].lstrip("&= ").startswith(by_q["dJt/dW2"]["claim"][:40])
    assert by_q["dJ/dz3"]["line"] == 15 and by_q["dJ/dz3"]["claim"] in lines[15 - 1]
    # the planted wrong steps; the steps out of them (lines 11 and 22) may be flagged too
    bad_lines = {s["line"] for s in obj["steps"] if not s["ok"]}
    assert {9, 15, 21} <= bad_lines <= {9, 11, 15, 21, 22}


def test_csv_gradebook(tmp_path):
    names = [COLUMNS, ROWS, GARBLED]
    missing = tmp_path / "gone.md"
    proc = _symderiv(
        "grade", "--key", "softmax-2layer", "--csv", "--no-symbolic", *[str(FIXTURES / n) for n in names], str(missing)
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0][:6] == ["file"] + SOFTMAX_PARTS
    assert "total" in rows[0]
    assert len(rows) == 1 + len(names) + 1
    header = rows[0]
    table = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    assert float(table[str(FIXTURES / COLUMNS)]["total"]) == 5
    rows_row = table[str(FIXTURES / ROWS)]
    assert [float(rows_row[q]) for q in SOFTMAX_PARTS] == [0, 1, 1, 1, 1]
    garbled_row = table[str(FIXTURES / GARBLED)]
    assert [float(garbled_row[q]) for q in SOFTMAX_PARTS] == [1, 0, 1, 0, 1]
    assert "no such file" in table[str(missing)]["error"]


# ======================================================================= 9. --jobs 2 == --jobs 1


def _without_timings(obj):
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


def _by_file(stdout: str) -> dict:
    return {o["file"]: _without_timings(o) for o in json.loads(stdout)}


def test_jobs_2_same_as_jobs_1(tmp_path):
    files = sorted(str(p) for p in FIXTURES.glob("softmax_*.md")) + [str(tmp_path / "absent.md")]
    one = _symderiv("grade", "--key", "softmax-2layer", "--json", "--no-symbolic", "--jobs", "1", *files)
    two = _symderiv("grade", "--key", "softmax-2layer", "--json", "--no-symbolic", "--jobs", "2", *files)
    assert one.returncode == two.returncode == 1
    a, b = _by_file(one.stdout), _by_file(two.stdout)
    assert len(a) == len(files) and a == b


# ======================================================================= the symbolic check through grading


def test_symbolic_check_runs_through_grading(monkeypatch):
    monkeypatch.setenv("SYMDERIV_CACHE", "0")  # SymPy itself, not results stored by an earlier run
    path = FIXTURES / UNICODE
    report = grade_text(
        path.read_text(encoding="utf-8"), "softmax-2layer", file=str(path), config=GradeConfig(symbolic=True)
    ).to_dict()
    assert {p["quantity"]: p["verdict"] for p in report["parts"]} == {
        p["quantity"]: p["verdict"] for p in graded(UNICODE, "softmax-2layer")["parts"]
    }
    for p in report["parts"]:
        sym = p["check"]["symbolic"]
        if p["verdict"] == "correct":
            assert sym["status"] == "equal", (p["quantity"], sym)
            assert "simplifies to 0" in sym["detail"] and sym["sizes"]
        else:  # evidence for a rejection, or no symbolic run; never a symbolic "equal"
            assert sym["status"] in ("different", "skipped"), (p["quantity"], sym)


# ======================================================================= grading gaps found by these tests

# Each was a wrong grade when these tests were written (xfail then) and is fixed in b28abb3;
# they stay as regression tests. New gaps go in as xfail(..., reason=<the gap>, id=...).


def _grade_md(markdown: str, problem: str, symbolic: bool = False) -> dict:
    return grade_text(markdown, problem, config=GradeConfig(symbolic=symbolic)).to_dict()


GAPS = [
    # problem, markdown, quantity, verdict a careful TA gives, line
    pytest.param(
        "sigmoid-bce-1hidden",
        r"$$\frac{\partial L}{\partial w^{[2]}} = \frac{\partial L}{\partial z^{[2]}}"
        r" a^{[1]T} = (a^{[2]} - y) a^{[1]T}$$",
        "dL/dw2",
        "correct",
        1,
        # was: the left side retargeted to dL/dz2 (the only ∂ on the right): dL/dw2 'missing'
        id="chain-rule-with-closed-jacobian-factor-sigmoid",
    ),
    pytest.param(
        "softmax-2layer",
        r"$$\frac{\partial J}{\partial b^{(2)}} = \frac{\partial J}{\partial z^{(3)}}"
        r" \mathbf{1}_N = \frac{1}{N}(\psi(z^{(3)}) - \Delta)\mathbf{1}_N$$",
        "dJ/db2",
        "correct",
        1,
        # was: retargeted to dJ/dz3, overriding the student's dJ/dz3; dJ/db2 'missing'
        id="chain-rule-with-closed-jacobian-factor-softmax",
    ),
    pytest.param(
        "softmax-2layer",
        r"$$\frac{\partial J}{\partial a^{(2)}} = W^{(2)T} \frac{\partial J}{\partial z^{(3)}}"
        r" = \frac{1}{N} W^{(2)T}(\psi(z^{(3)}) - \Delta)$$",
        "dJ/da2",
        "correct",
        1,
        # was: graded as dJ/dz3 (incorrect, 4x7 vs 5x7)
        id="chain-rule-recursive-dJ/da2",
    ),
    pytest.param(
        "softmax-2layer",
        r"$$\frac{\partial \tilde J}{\partial W^{(2)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)"
        r" a^{(2)ᵀ} + 2\lambda W^{(2)}$$",
        "dJt/dW2",
        "correct",
        1,
        # was: the ᵀ inside the superscript read as a^{2^T}: 'incorrect'
        id="unicode-transpose-inside-superscript",
    ),
    pytest.param(
        "softmax-2layer",
        r"$$\frac{\partial a_i}{\partial z_j} = \psi_i(\delta_{ij} - \psi_j)$$",
        "softmax-jacobian",
        "correct",
        1,
        # was: ψ_i read as ψ with layer index i: "cannot read Sym('i') as a layer index"
        id="softmax-output-as-psi_i",
    ),
    pytest.param(
        "sigmoid-bce-1hidden",
        r"$$z^{[1]} = (-70, 50)$$",
        "z1",
        "correct",
        1,
        # was: "unexpected ','" and z1 'missing' (problems.md itself writes x = (−1, −1))
        id="vector-as-tuple",
    ),
    pytest.param(
        "sigmoid-bce-1hidden",
        r"$$\frac{\partial L}{\partial a^{[2]}} = -\frac{y}{a^{[2]}} - \frac{1-y}{1-a^{[2]}}$$",
        "dL/da2",
        "incorrect",
        1,
        # was: 'correct': every one-sample BCE test point had y = 1
        id="bce-sign-of-the-(1-y)-term",
    ),
    pytest.param(
        "sigmoid-bce-1hidden",
        r"$$\frac{\partial L}{\partial a^{[2]}} = -\frac{y}{a^{[2]}}$$",
        "dL/da2",
        "incorrect",
        1,
        # was: 'correct', same cause
        id="bce-missing-(1-y)-term",
    ),
    # ---- open gaps
    pytest.param(
        "softmax-2layer",
        r"$$\nabla_{W^{(2)}} \tilde J = \frac{1}{N}(\psi(Z^{(3)}) - \Delta)A^{(2)T} + 2\lambda W^{(2)}$$",
        "dJt/dW2",
        "correct",
        1,
        id="gradient-written-with-nabla",
    ),
    pytest.param(
        "mlp-general",
        r"$$\delta^{(L)} = \nabla_{a^{(L)}} C \odot g_L'(z^{(L)})$$",
        "delta-L",
        "correct",
        1,
        id="nabla-in-the-claim",
    ),
    pytest.param(
        "mlp-general",
        r"$$\delta^{(l)} = (W^{(l+1)T} \delta^{(l+1)}) \odot g_l'(z^{(l)})$$",
        "delta-l",
        "correct-up-to-layout",
        1,
        id="layered-quantity-layout",
    ),
    pytest.param(
        "softmax-2layer",
        r"$$\frac{\partial J}{\partial b^{(2)}} = \frac{1}{N}\mathbf{1}_N^T(\psi(Z^{(3)}) - \Delta)"
        r"\mathbf{1}_N$$",
        "dJ/db2",
        "incorrect",
        1,
        id="ones-vector-in-the-one-sample-reading",
    ),
    pytest.param(
        "softmax-2layer",
        r"$$\frac{\partial a_i}{\partial z_j} = \begin{cases} a_i(1-a_i) & i = j \\ -a_i a_j & i \neq j"
        r" \end{cases}$$",
        "softmax-jacobian",
        "correct",
        1,
        id="softmax-jacobian-as-cases-on-i-j",
    ),
    pytest.param(
        "softmax-2layer",
        r"$$\frac{\partial \tilde J}{\partial W_{ij}^{(2)}} = \frac{1}{N}\sum_{n=1}^{N}(a^{(3)}_{in}"
        r" - \Delta_{in}) a^{(2)}_{jn} + 2\lambda W^{(2)}_{ij}$$",
        "dJt/dW2",
        "correct",
        1,
        id="entrywise-weight-gradient",
    ),
]


# The same claims in the spellings symderiv handled all along.
CONTROLS = [
    (
        "sigmoid-bce-1hidden",
        r"$$\frac{\partial L}{\partial w^{[2]}} = \frac{\partial L}{\partial z^{[2]}}"
        r" \frac{\partial z^{[2]}}{\partial w^{[2]}} = (a^{[2]} - y) a^{[1]T}$$",
        "dL/dw2",
        "correct",
        1,
    ),
    (
        "softmax-2layer",
        r"$$\frac{\partial J}{\partial b^{(2)}} = \frac{\partial J}{\partial z^{(3)}}"
        r" \frac{\partial z^{(3)}}{\partial b^{(2)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)\mathbf{1}_N$$",
        "dJ/db2",
        "correct",
        1,
    ),
    (
        "softmax-2layer",
        r"$$\frac{\partial \tilde J}{\partial W^{(2)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)"
        r" a^{(2)}ᵀ + 2\lambda W^{(2)}$$",
        "dJt/dW2",
        "correct",
        1,
    ),
    (
        "softmax-2layer",
        r"$$\frac{\partial J}{\partial b^{(2)}} = \frac{1}{N}\sum_{i=1}^{N} (\psi(z_i^{(3)}) - \Delta_i)$$",
        "dJ/db2",
        "correct",
        1,
    ),
    (
        "softmax-2layer",
        r"$$\frac{\partial J}{\partial b^{(2)}} = \frac{1}{N}\sum_i (\psi(z_i^{(3)}) - \Delta_i)$$",
        "dJ/db2",
        "correct",
        1,
    ),
    (
        "softmax-2layer",
        r"$$\frac{\partial a_i}{\partial z_j} = a_i(\delta_{ij} - a_j)$$",
        "softmax-jacobian",
        "correct",
        1,
    ),
    ("sigmoid-bce-1hidden", r"$$z^{[1]} = [-70, 50]$$", "z1", "correct", 1),
    (
        "sigmoid-bce-1hidden",
        r"$$\frac{\partial L}{\partial a^{[2]}} = \frac{y}{a^{[2]}} - \frac{1-y}{1-a^{[2]}}$$",
        "dL/da2",
        "incorrect",
        1,
    ),
]


@pytest.mark.parametrize(
    "problem, markdown, quantity, verdict, line",
    CONTROLS + GAPS,
    ids=[f"control-{r[3]}" for r in CONTROLS] + [None] * len(GAPS),
)
def test_gap_regressions(problem, markdown, quantity, verdict, line):
    p = part(_grade_md(markdown, problem), quantity)
    assert (p["verdict"], p["line"]) == (verdict, line), p["feedback"]


STUDENT_DEFINITIONS = [
    pytest.param(
        "Let $\\delta^{(3)} = \\psi(Z^{(3)}) - \\Delta$ (one column per sample).\n\n"
        "$$\\frac{\\partial J}{\\partial Z^{(3)}} = \\frac{1}{N}\\delta^{(3)}$$\n\n"
        "$$\\frac{\\partial \\tilde J}{\\partial W^{(2)}} = \\frac{1}{N}\\delta^{(3)} A^{(2)T} + 2\\lambda W^{(2)}$$\n",
        {"dJ/dz3": ("correct", 3), "dJt/dW2": ("correct", 5)},
        id="own-definition-of-delta",
    ),
    pytest.param(
        "Let $$E = \\psi(Z^{(3)}) - \\Delta$$\n\n"
        "$$\\frac{\\partial J}{\\partial Z^{(3)}} = \\frac{1}{N}E$$\n\n"
        "$$\\frac{\\partial \\tilde J}{\\partial W^{(2)}} = \\frac{1}{N}E A^{(2)T} + 2\\lambda W^{(2)}$$\n",
        {"dJ/dz3": ("correct", 3), "dJt/dW2": ("correct", 5)},
        id="own-shorthand-symbol",
    ),
]


@pytest.mark.parametrize("markdown, want", STUDENT_DEFINITIONS)
def test_student_definitions(markdown, want):
    report = _grade_md(markdown, "softmax-2layer")
    got = {q: (part(report, q)["verdict"], part(report, q)["line"]) for q in want}
    assert got == want, [part(report, q)["feedback"] for q in want]


def test_bce_wrong_term_is_rejected_with_symbolic_evidence():
    # was: 'correct' with full points; the symbolic check disagreed only in the feedback
    report = _grade_md(
        r"$$\frac{\partial L}{\partial a^{[2]}} = -\frac{y}{a^{[2]}} - \frac{1-y}{1-a^{[2]}}$$",
        "sigmoid-bce-1hidden",
        symbolic=True,
    )
    p = part(report, "dL/da2")
    assert p["check"]["symbolic"]["status"] == "different"  # the symbolic check does see it
    assert p["verdict"] not in ACCEPT and p["points"] == 0, p["feedback"]


def test_wrong_step_line_in_multiline_display():
    # was: a $$ chain over several lines without \\ was one row: every step on line 1
    report = _grade_md(
        "$$\\frac{\\partial J}{\\partial z^{(3)}}\n"
        "= \\frac{1}{N}(a^{(3)} - \\Delta)\n"
        "= \\frac{1}{N}(\\psi(z^{(3)}) - 1)\n"
        "= \\frac{1}{N}(\\psi(z^{(3)}) - \\Delta)$$\n",
        "softmax-2layer",
    )
    assert part(report, "dJ/dz3")["line"] == 4
    assert flagged(report) and min(s["line"] for s in flagged(report)) == 3


def test_transposed_step_is_not_silently_ok():
    # was: _values_equal transposed one side, so X = Xᵀ (5x4 vs 4x5) was an 'ok' step
    report = _grade_md(
        "$$\\begin{aligned}\n"
        "\\frac{\\partial \\tilde J}{\\partial W^{(2)}} &= \\frac{1}{N}(\\psi(z^{(3)}) - \\Delta)a^{(2)T}"
        " + 2\\lambda W^{(2)} \\\\\n"
        "&= \\frac{1}{N}a^{(2)}(\\psi(z^{(3)}) - \\Delta)^T + 2\\lambda W^{(2)T}\n"
        "\\end{aligned}$$\n",
        "softmax-2layer",
    )
    step = [s for s in report["steps"] if s["line"] == 3 and s["left"] and "a^{(2)T}" in s["left"]]
    assert step and (not step[0]["ok"] or "transpose" in step[0]["message"]), step


def test_jobs_2_with_symbolic_check_finishes(tmp_path):
    # was: never exited (each pool worker's SymPy worker was joined at exit and waited forever)
    sub = tmp_path / "s.md"
    sub.write_text(r"$$\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)$$" + "\n")
    files = [str(sub), str(sub)]
    # an empty symbolic cache, so that each pool worker really starts its SymPy worker
    proc = _symderiv(
        "grade",
        "--key",
        "softmax-2layer",
        "--json",
        "--jobs",
        "2",
        *files,
        timeout=180,  # a hang guard only (the bug never exited); about 2 s on a quiet machine
        env={"SYMDERIV_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert [o["parts"][0]["verdict"] for o in json.loads(proc.stdout)] == ["correct", "correct"]
