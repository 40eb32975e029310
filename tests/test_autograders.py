"""`symderiv gradescope` and `symderiv prairielearn` (issue 23 item 3, issue 22 item 4): results that
follow each platform's spec for every kind of submission, always written before the platform's
own time limit, with the parts finished so far; links out of the submission folder refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from lms_class import folder, students
from lms_validators import Refused, gradescope_results, prairielearn_results

import symderiv.grading.deadline as deadline_module
import symderiv.output.platforms as platforms
from symderiv.answerkey.problem import load_problem
from symderiv.cli import build_parser
from symderiv.grading.deadline import grade_by
from symderiv.grading.grade import grade_file
from symderiv.grading.results import GradeConfig
from symderiv.output.platforms import read_folder, run_autograder

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = load_problem("softmax-2layer")
FAST = GradeConfig(symbolic=False)
CLASS = {s.key: s for s in students()}
INTERNAL = ("dJt/dW2", "dJ/dz3", "softmax-2layer", "/autograder", "/grade/", "Traceback")


def reference(tmp_path: Path, key: str, total: float | None = None) -> float | None:
    """The student's grade from the file that holds the derivation, graded alone."""
    s = CLASS[key]
    if s.derivation is None:
        return None
    path = folder(tmp_path / "ref" / key, s) / s.derivation
    return grade_file(path, PROBLEM, replace(FAST, total=total)).score


def graded(tmp_path: Path, platform: str, key: str, **kw) -> dict:
    sub = folder(tmp_path / platform / key / "submission", CLASS[key])
    results = tmp_path / platform / key / "results" / "results.json"
    data = run_autograder(platform, PROBLEM, sub, results, kw.pop("config", FAST), **kw)
    assert json.loads(results.read_text(encoding="utf-8")) == data
    return data


@pytest.mark.parametrize(
    "key", ["jane", "chidi", "juergen", "bao", "ana", "hua", "siobhan", "min", "lena", "mei", "omar"]
)
def test_gradescope_results_follow_the_spec_with_the_right_score(tmp_path, key):
    data = graded(tmp_path, "gradescope", key)
    shown = gradescope_results(data)
    assert shown["score"] == pytest.approx(reference(tmp_path, key))
    assert [t[0] for t in shown["tests"]] == ["∂J/∂z⁽³⁾", "∂J̃/∂W⁽²⁾", "∂J̃/∂W⁽¹⁾", "∂J/∂b⁽¹⁾", "∂J/∂b⁽²⁾"]
    assert sum(t[2] for t in shown["tests"]) == pytest.approx(data["score"])
    assert all(t[3] > 0 for t in shown["tests"])  # an optional part is never a failed 0/0 test
    text = json.dumps(data, ensure_ascii=False)
    assert not any(x in text for x in INTERNAL) and str(tmp_path) not in text


@pytest.mark.parametrize(
    "key", ["jane", "chidi", "juergen", "bao", "ana", "hua", "siobhan", "min", "lena", "mei", "omar"]
)
def test_prairielearn_results_follow_the_spec_with_the_right_score(tmp_path, key):
    data = graded(tmp_path, "prairielearn", key)
    prairielearn_results(data)
    assert data["gradable"] is True
    assert data["score"] == pytest.approx(reference(tmp_path, key) / 5)
    text = json.dumps(data, ensure_ascii=False)
    assert not any(x in text for x in INTERNAL) and str(tmp_path) not in text


@pytest.mark.parametrize(
    "key, reason",
    [("raj", "scan.pdf: .pdf files are not graded"), ("zoe", "hw2.md: is empty")],
    ids=["scan-only", "empty"],
)
def test_an_unreadable_submission_says_why_on_each_platform(tmp_path, key, reason):
    gs = graded(tmp_path, "gradescope", key)
    shown = gradescope_results(gs)
    assert shown["score"] == 0 and shown["tests"][0][:2] == ("Reading your submission", "failed")
    assert reason in gs["tests"][0]["output"] and "Graded" not in gs["output"]
    assert [t[3] for t in shown["tests"][1:]] == [1, 1, 1, 1, 1]  # every part 0 out of its points
    pl = graded(tmp_path, "prairielearn", key)
    prairielearn_results(pl)
    assert pl["gradable"] is False and any(reason in e for e in pl["format_errors"])
    assert str(tmp_path) not in json.dumps(gs) + json.dumps(pl)


def test_points_and_visibility(tmp_path):
    data = graded(tmp_path, "gradescope", "chidi", config=replace(FAST, total=20), visibility="after_published")
    shown = gradescope_results(data)
    assert shown["score"] == pytest.approx(reference(tmp_path, "chidi", total=20)) == 8
    assert {t["visibility"] for t in data["tests"]} == {"after_published"} and data["visibility"] == "after_published"


def test_the_validators_refuse_what_the_platforms_refuse():
    with pytest.raises(Refused, match="rendered as HTML"):
        gradescope_results({"score": 1, "output": "<b>x</b>"})
    with pytest.raises(Refused, match="status"):
        gradescope_results({"tests": [{"score": 1, "status": "ok"}]})
    with pytest.raises(Refused, match="format_errors"):
        prairielearn_results({"gradable": False})
    with pytest.raises(Refused, match=r"\[0, 1\]"):
        prairielearn_results({"gradable": True, "score": 1.5})


# ---- the deadline -------------------------------------------------------------------------


def stuck_after_first_part(path, problem, config, on_part=None):
    """A grading that sends its first part, then never ends (a pathological file)."""
    report = grade_file(path, problem, config)
    if on_part is not None:
        on_part(report.parts[0])
    time.sleep(3600)


def test_at_the_deadline_the_parts_finished_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(deadline_module, "grade_file", stuck_after_first_part)
    sub = folder(tmp_path / "s", CLASS["jane"])
    candidates = read_folder(sub).candidates
    started = time.monotonic()
    report, why = grade_by(candidates, PROBLEM, FAST, deadline=started + 3, limit_words="the limit of 3 s")
    assert 3 <= time.monotonic() - started < 6
    assert why == "the limit of 3 s was reached"
    verdicts = [(p.quantity, p.verdict) for p in report.parts]
    assert verdicts[0] == ("dJ/dz3", "correct") and all(v == "undecided" for _, v in verdicts[1:])
    assert report.score == 1 and report.max_score == 5
    assert "the limit of 3 s was reached before this part" in report.parts[1].feedback


def test_the_autograder_writes_partial_results_before_its_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(deadline_module, "grade_file", stuck_after_first_part)
    started = time.monotonic()
    data = graded(tmp_path, "gradescope", "jane", deadline=started + 3)
    assert time.monotonic() - started < 6
    shown = gradescope_results(data)
    assert shown["score"] == 1 and [t[1] for t in shown["tests"]] == ["passed"] + ["failed"] * 4
    assert "Grading stopped early" in data["output"] and "time limit of 3 s" in data["output"]
    pl = graded(tmp_path, "prairielearn", "jane", deadline=time.monotonic() + 3)
    assert prairielearn_results(pl)["score"] == pytest.approx(0.2)


def test_sigterm_writes_the_results_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(deadline_module, "grade_file", stuck_after_first_part)
    timer = threading.Timer(2.0, os.kill, (os.getpid(), 15))
    timer.start()
    started = time.monotonic()
    data = graded(tmp_path, "prairielearn", "chidi", deadline=started + 60)
    timer.join()
    assert time.monotonic() - started < 10 and prairielearn_results(data)["gradable"]
    assert "Grading stopped early" in data["message"]


def test_the_results_say_grading_did_not_finish_before_grading_starts(tmp_path, monkeypatch):
    seen = []

    def look(files, problem, config, deadline, stop, limit_words):
        seen.append(json.loads((tmp_path / "gradescope" / "chidi" / "results" / "results.json").read_text()))
        return grade_file(files[0].path, problem, config), None

    monkeypatch.setattr(platforms, "grade_by", look)
    graded(tmp_path, "gradescope", "chidi")
    (first,) = seen
    gradescope_results(first)
    assert first["score"] == 0 and "did not finish" in first["output"]


# ---- the submission folder -----------------------------------------------------------------


def test_links_out_of_the_submission_are_refused(tmp_path):
    outside = tmp_path / "key-solution.md"
    outside.write_bytes((ROOT / "examples" / "softmax-alice.md").read_bytes())
    sub = folder(tmp_path / "submission", CLASS["chidi"])
    (sub / "hw2.md").unlink()
    (sub / "answer.md").symlink_to(outside)
    results = tmp_path / "results.json"
    data = run_autograder("gradescope", PROBLEM, sub, results, FAST)
    assert data["score"] == 0 and "a link to a file outside the submission; not read" in data["output"]
    gradescope_results(data)


def test_a_link_inside_the_submission_is_read(tmp_path):
    sub = folder(tmp_path / "submission", CLASS["chidi"])
    (sub / "final.md").symlink_to(sub / "hw2.md")
    assert [c.display for c in read_folder(sub).candidates] == ["final.md", "hw2.md"]


@pytest.mark.parametrize(
    "files, chosen",
    [
        (["a.txt", "b.md", "c.ipynb"], "c.ipynb"),
        (["z.md", "a.md"], "a.md"),
        (["x.pdf"], None),
        (["sub/hw.tex", ".hidden.md", "__MACOSX/x.md"], "sub/hw.tex"),
        (["entry.html", "notes.txt"], "notes.txt"),
    ],
    ids=["notebook-first", "by-name", "none", "nested", "text-before-html"],
)
def test_the_order_files_are_tried_in(tmp_path, files, chosen):
    for f in files:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("x")
    found = read_folder(tmp_path)
    assert (found.candidates[0].display if found.candidates else None) == chosen


# ---- the commands --------------------------------------------------------------------------


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "symderiv.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize("platform", ["gradescope", "prairielearn"])
def test_the_commands_write_results_and_exit_0(tmp_path, platform):
    sub = folder(tmp_path / "submission", CLASS["ana"])
    results = tmp_path / "results" / "results.json"
    proc = cli(
        platform, "--key", "softmax-2layer", "--no-symbolic", "--submission", str(sub), "--results", str(results)
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(results.read_text(encoding="utf-8"))
    (gradescope_results if platform == "gradescope" else prairielearn_results)(data)
    text = data.get("output", "") + data.get("message", "")
    assert (
        "Graded hw2-1.md" in text
        and "hw2.md: hw2-1.md was graded instead (the later upload)" in text
        and "scan.pdf: .pdf files are not graded" in text
    )


@pytest.mark.parametrize("platform", ["gradescope", "prairielearn"])
def test_an_unreadable_submission_still_exits_0_with_its_results(tmp_path, platform):
    """PrairieLearn reads results.json only after exit code 0 (grader-host's runJob): a scan-only
    submission must leave through the results, not through the exit code."""
    sub = folder(tmp_path / "submission", CLASS["raj"])
    results = tmp_path / "results" / "results.json"
    proc = cli(
        platform, "--key", "softmax-2layer", "--no-symbolic", "--submission", str(sub), "--results", str(results)
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(results.read_text(encoding="utf-8"))
    if platform == "gradescope":
        assert gradescope_results(data)["score"] == 0 and data["tests"][0]["status"] == "failed"
    else:
        assert prairielearn_results(data)["gradable"] is False


def test_the_default_deadline_is_below_each_platforms_limit():
    assert platforms.DEADLINES == {"gradescope": 540.0, "prairielearn": 25.0}
    assert "default 540" in cli("gradescope", "--help").stdout.replace("\n", " ")


@pytest.mark.parametrize(
    "command",
    [
        (ROOT / "examples" / "gradescope" / "run_autograder").read_text().split("exec ", 1)[1].split(),
        json.loads((ROOT / "examples" / "prairielearn" / "info.json").read_text())["externalGradingOptions"][
            "entrypoint"
        ].split(),
    ],
    ids=["gradescope-run_autograder", "prairielearn-entrypoint"],
)
def test_the_example_set_ups_call_real_options(command):
    args = build_parser().parse_args(command[1:])
    assert args.command in ("gradescope", "prairielearn") and args.key.endswith("key.toml")
    assert args.timeout < {"gradescope": 600, "prairielearn": 30}[args.command]
    assert command[0].startswith("/") and command[0].endswith("/symderiv")


def test_the_prairielearn_entrypoint_is_what_its_grader_host_runs():
    """PrairieLearn's grader host (apps/grader-host/src/index.ts) starts the container with
    `Entrypoint: entrypoint.split(' ')` (no shell, no quoting), kills it at the question's `timeout`,
    and reads results.json only when the exit code is 0; its docs ask for an absolute path."""
    options = json.loads((ROOT / "examples" / "prairielearn" / "info.json").read_text())["externalGradingOptions"]
    argv = options["entrypoint"].split(" ")
    assert all(argv) and not any(c in options["entrypoint"] for c in "\"'$;&|<>")
    dockerfile = (ROOT / "examples" / "prairielearn" / "Dockerfile").read_text()
    assert "\nFROM python:3.12-slim\n" in dockerfile and "\nRUN pip install " in dockerfile
    assert argv[0] == "/usr/local/bin/symderiv"  # where pip puts the command in the official python image
    args = build_parser().parse_args(argv[1:])
    assert args.timeout <= options["timeout"] - 5 and options["timeout"] <= 600
