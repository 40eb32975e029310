"""What a TA and a student see: the class view and a student's page in headless Chromium, and a
student's PDF from --export-latex, with the math in the feedback rendered (never LaTeX source).

Set SYMDERIV_SCREENSHOTS=DIR to keep the screenshots (docs/ holds two of them for the README).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from symderiv.answerkey.problem import load_problem
from symderiv.grading.grade import grade_submission
from symderiv.grading.results import GradeConfig
from symderiv.output.export import export_submissions
from symderiv.output.overview import write_html
from symderiv.reading.collect import collect
from symderiv.reading.roster import load_roster

ROOT = Path(__file__).resolve().parents[1]
LMS = ROOT / "tests" / "fixtures" / "lms"
PROBLEM = load_problem("softmax-2layer")
CLASS = {
    "smithjane_123456_7890123_hw2.md": ROOT / "examples" / "softmax-alice.md",
    "okaforchidi_LATE_123457_7890124_hw2.md": ROOT / "examples" / "softmax-bob.md",
    "nguyenbao_123458_7890125_hw2.md": LMS / "softmax-dana.md",
    "garciaana_123459_7890126_hw2.md": ROOT / "tests" / "fixtures" / "submissions" / "softmax_missing_garbled.md",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    archive = tmp / "hw2-submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, src in CLASS.items():
            z.writestr(name, src.read_bytes())
        z.writestr("patelraj_123461_7890128_scan.pdf", b"%PDF-1.4\n\x00\x01")
    roster = load_roster(LMS / "canvas_gradebook_export.csv")
    subs = collect([str(archive)], tmp / "work", roster)
    return tmp, [grade_submission(s, PROBLEM, GradeConfig(symbolic=False)) for s in subs]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(browser: str, page: Path, png: Path, profile: Path, height: int = 1600) -> None:
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size=1200,{height}",
            page.resolve().as_uri(),
        ],
        check=True,
        timeout=90,
        capture_output=True,
    )


def test_student_page_renders_feedback_math_as_mathml(graded):
    tmp, reports = graded
    index = write_html(reports, PROBLEM, tmp / "html")
    page = (index.parent / "Nguyen_Bao-123458.html").read_text(encoding="utf-8")
    row = next(r for r in page.split("<tr") if "transpose" in r and "correct-up-to-layout" in r)
    feedback = row.split("<td>")[-1]
    assert "transpose" in feedback and "<math" in feedback and "a^{(2)}" not in feedback
    assert "<title>Nguyen, Bao (123458) — " in page
    overview = index.read_text(encoding="utf-8")
    assert "What the class got wrong" in overview and "For review" in overview and "Not graded" in overview


def test_screenshots_of_the_class_view_and_a_student_page(graded):
    browser = chromium()
    if browser is None:
        pytest.skip("chromium not installed; .ci/run installs it")
    tmp, reports = graded
    index = write_html(reports, PROBLEM, tmp / "shots")
    keep = os.environ.get("SYMDERIV_SCREENSHOTS")
    for page, png_name, height in (
        (index, "class-view.png", 1500),
        (index.parent / "Nguyen_Bao-123458.html", "student-page.png", 1100),
    ):
        png = tmp / png_name
        screenshot(browser, page, png, tmp / f"profile-{png.stem}", height)
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, f"{png}: {len(data)} bytes"
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(png, Path(keep) / png_name)


def test_student_pdf_typesets_the_feedback_math(graded):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed; .ci/run installs it")
    tmp, reports = graded
    written = export_submissions(reports, PROBLEM, tmp / "tex")
    dana = next(p for p in written if "nguyenbao" in p.name)
    tex = dana.read_text(encoding="utf-8")
    assert "$a^{(2)}$" in tex and "$W^{(2)}$" in tex and "\\textbackslash" not in tex
    assert "\\author{Nguyen, Bao (123458)}" in tex
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", dana.name],
        cwd=dana.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert not re.search(r"^! ", proc.stdout, re.M)
    assert dana.with_suffix(".pdf").stat().st_size > 10_000
