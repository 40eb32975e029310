r"""Tests of symderiv.output.html: the `grade --html DIR` report, built from hand-made Reports.

The reports are constructed directly (not graded), so these tests do not depend on the
grading engine. The last test renders the pages in headless Chromium and takes screenshots.
"""

from __future__ import annotations

import colorsys
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from symderiv.grading.results import Part, Report, Step
from symderiv.output.html import COLOURS, VERDICTS, math_html, page_names
from symderiv.output.overview import write_html

PROBLEM = SimpleNamespace(
    id="softmax-2layer", title="Two-layer softmax network", parts=("dJ/dz3", "dJt/dW2", "dJt/dW1")
)
CLAIMS = {
    "correct": r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)",
    "correct-up-to-layout": r"\frac{\partial J}{\partial z^{(3)}} (a^{(2)})^T + 2\lambda W^{(2)}",
    "incorrect": r"W^{(2)T} \odot \phi'(z^{(2)})",
    "unparseable": r"\frac{1}{",
    "missing": "",
}
POINTS = {"correct": 1.0, "correct-up-to-layout": 0.75}


def part(quantity: str, verdict: str, claim: str | None = None, **kw) -> Part:
    return Part(
        quantity=quantity,
        verdict=verdict,
        claim=CLAIMS[verdict] if claim is None else claim,
        line=None if verdict == "missing" else kw.pop("line", 12),
        feedback=kw.pop("feedback", f"{quantity} is {verdict}."),
        points=POINTS.get(verdict, 0.0),
        max_points=1.0,
        **kw,
    )


def report(file: str, verdicts=("correct", "correct-up-to-layout", "incorrect"), steps=(), **kw) -> Report:
    parts = tuple(part(q, v, **kw) for q, v in zip(PROBLEM.parts, verdicts))
    return Report(
        file=file,
        problem=PROBLEM.id,
        score=sum(p.points for p in parts),
        max_score=float(len(PROBLEM.parts)),
        parts=parts,
        steps=tuple(steps),
    )


STEPS = (
    Step(7, True, "ok", r"\frac{\partial J}{\partial z^{(3)}}", r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)", "dJ/dz3"),
    Step(15, False, r"\phi(z) \ne 30", r"\phi(z^{(2)})", "30", "dJt/dW1"),
    Step(15, False, "dJt/dW1: shapes differ", r"\frac{\partial \tilde J}{\partial W^{(1)}}", r"a^{(1)T}^", "dJt/dW1"),
    Step(19, False, r"e^{z_i} ≠ \psi(z_i)", r"e^{z_i}", r"\psi(z_i)", None),
)
ERRORED = Report(
    file="sub/empty.txt",
    problem=PROBLEM.id,
    score=0.0,
    max_score=0.0,
    error="sub/empty.txt: the file is empty <nothing to grade>",
)


@pytest.fixture
def out(tmp_path):
    """Writes a small class into tmp_path/html; yields (index path, reports)."""
    reports = [
        report("class/alice.txt", steps=STEPS, first_wrong_line=15),
        report("class/bob.md", ("incorrect", "unparseable", "missing")),
        ERRORED,
    ]
    return write_html(reports, PROBLEM, tmp_path / "html" / "new"), reports


def page_of(index: Path, file: str, files=None) -> str:
    files = files or [file]
    name = page_names(files)[files.index(file)]
    return (index.parent / name).read_text(encoding="utf-8")


CLASS = ["class/alice.txt", "class/bob.md", "sub/empty.txt"]


# ---- files and links --------------------------------------------------------------------


def test_writes_index_and_one_page_per_submission(out):
    index, reports = out
    assert index.name == "index.html" and index.is_file()
    pages = sorted(p.name for p in index.parent.glob("*.html"))
    assert pages == sorted(["index.html", "class_alice.html", "class_bob.html", "sub_empty.html"])
    for p in index.parent.glob("*.html"):
        text = p.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "<style>" in text
        assert not re.search(r"<script|<link|https?://(?!www\.w3\.org/1998/Math/MathML)", text), p.name


def test_index_links_every_submission(out):
    index, reports = out
    html = index.read_text(encoding="utf-8")
    hrefs = re.findall(r'<a href="([^"]+)">', html)
    assert sorted(hrefs) == sorted(["class_alice.html", "class_bob.html", "sub_empty.html"])
    for href in hrefs:
        assert (index.parent / href).is_file()
    for r in reports:
        assert f">{r.file}</a>" in html  # the path below the folder the files share


def test_index_shows_totals_and_verdict_counts(out):
    html = out[0].read_text(encoding="utf-8")
    assert "1.75/3" in html and "0/3" in html
    foot = html.split("<tfoot>")[1].split("</tfoot>")[0]
    counts = {
        v: re.findall(r'<td class="num">(\d+)</td>', row)
        for v in VERDICTS
        for row in foot.split("</tr>")
        if f"v-{v}\"" in row
    }
    assert counts["correct"] == ["1", "0", "0"]
    assert counts["incorrect"] == ["1", "0", "1"]
    assert counts["missing"] == ["0", "0", "1"]
    assert "mean of 2 graded" in foot


@pytest.mark.parametrize("verdict", VERDICTS, ids=VERDICTS)
def test_verdict_has_its_class_and_colour(tmp_path, verdict):
    index = write_html([report("s.txt", (verdict,) * 3)], PROBLEM, tmp_path)
    fg, bg = COLOURS[verdict]
    for html in (index.read_text(encoding="utf-8"), page_of(index, "s.txt")):
        assert f".v-{verdict} {{ color: {fg}; background: {bg}; }}" in html
        assert f'class="v v-{verdict}"' in html or f'class="mark v v-{verdict}"' in html


def test_colours_are_green_amber_red_grey():
    def hue(hex_colour):
        h, l, s = colorsys.rgb_to_hls(*(int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)))
        return (
            "grey"
            if s < 0.15
            else "red"
            if h < 0.03 or h > 0.95
            else "amber"
            if h < 0.15
            else "green"
            if 0.25 < h < 0.45
            else f"hue {h:.2f}"
        )

    for i in (0, 1):  # text colour and background
        assert [hue(COLOURS[v][i]) for v in VERDICTS] == ["green", "amber", "red", "grey", "grey"]
    assert COLOURS["unparseable"] == COLOURS["missing"]


# ---- math -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "latex, kind",
    [
        (r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)", "math"),
        (r"\begin{cases} 0 & z < 0 \\ 1 & z \ge 0 \end{cases}", "math"),
        (r"\|W^{(1)}\|_2^2 + \sum_{i=1}^N a_i", "math"),
        (r"\frac{1}{", "code"),
        (r"\left( x", "code"),
        (r"x^", "code"),
        ("", "none"),
    ],
    ids=["plain", "cases", "norm-sum", "unclosed-frac", "left-no-right", "dangling-sup", "empty"],
)
def test_math_html(latex, kind):
    html = math_html(latex)
    if kind == "math":
        assert html.count("<math") == 1 and "</math>" in html and "<code" not in html
    elif kind == "code":
        assert html == f'<code class="latex">{latex.replace("&", "&amp;").replace("<", "&lt;")}</code>'
    else:
        assert "<math" not in html and "<code" not in html


def test_mathml_keeps_symbols_as_character_references():
    html = math_html(r"\partial \psi \le \odot")
    for ref in ("&#x02202;", "&#x003C8;", "&#x02264;", "&#x02299;"):
        assert ref in html
    assert "&amp;#x" not in html


@pytest.mark.parametrize(
    "latex, forbidden",
    [
        (r"<script>alert(1)</script>", "<script"),
        (r"\text{<script>alert(1)</script>}", "<script"),
        (r"\mathrm{<img src=x onerror=alert(1)>}", "<img"),
        (r"\href{javascript:alert(1)}{x}", "href"),
        (r"\style{background:url(http://x/)}{x}", " style="),
        (r"\class{v-correct}{x}", "class=\"v-correct"),
        (r"a & b </math><b>", "<b>"),
    ],
    ids=["script", "text-script", "mathrm-img", "href", "style", "class", "close-math"],
)
def test_student_latex_cannot_inject_markup(latex, forbidden):
    html = math_html(latex)
    assert forbidden not in html
    assert html.count("<math") <= 1 and html.count("</math>") == html.count("<math")


def test_claim_with_script_is_escaped_on_the_page(tmp_path):
    evil = Report(
        file="x<b>&y.txt",
        problem=PROBLEM.id,
        score=0.0,
        max_score=3.0,
        parts=(part("dJ/dz3", "incorrect", r"<script>alert(1)</script>", feedback="<i>no</i> & no"),),
        steps=(Step(3, False, "<script>bad()</script>", "<script>", r"\text{<script>}", "dJ/dz3"),),
    )
    index = write_html([evil], PROBLEM, tmp_path)
    for html in (index.read_text(encoding="utf-8"), page_of(index, evil.file)):
        assert "<script" not in html and "<i>" not in html and "<b>&" not in html
        assert "x&lt;b&gt;&amp;y.txt" in html
    page = page_of(index, evil.file)
    assert "&lt;i&gt;no&lt;/i&gt; &amp; no" in page and "&lt;script&gt;bad()&lt;/script&gt;" in page


# ---- the submission page ---------------------------------------------------------------


def test_submission_page_shows_parts_and_steps(out):
    page = page_of(out[0], "class/alice.txt", CLASS)
    assert "class/alice.txt" in page and "1.75/3" in page
    parts = page.split('<table class="parts">')[1].split("</table>")[0]
    assert parts.count('<tr class="part">') == 3 and parts.count("<math") == 3
    assert 'href="#line-15"' in parts and "dJt/dW2 is correct-up-to-layout." in parts
    steps = page.split('<table class="steps">')[1].split("</table>")[0]
    assert steps.count('class="step ok"') == 1 and steps.count('class="step wrong"') == 3
    assert steps.count('id="line-15"') == 1  # one anchor for the first wrong step of a line
    assert '<code class="latex">a^{(1)T}^</code>' in steps  # broken right side falls back
    assert steps.count("<math") == 8  # 7 sides, and the formula in a message
    assert "shapes differ" in steps and "(4 checked, 3 wrong)" in page
    assert r"e^{z_i} ≠" not in steps  # "left ≠ right" repeats the rendered sides


def test_unparseable_claim_falls_back_to_code_and_missing_shows_dash(out):
    page = page_of(out[0], "class/bob.md", CLASS)
    assert r'<code class="latex">\frac{1}{</code>' in page
    assert '<span class="none">—</span>' in page
    assert "No step could be checked." in page


def test_errored_report_gets_an_error_page(out):
    index = out[0]
    page = page_of(index, ERRORED.file, CLASS)
    assert '<div class="error">' in page and "could not be graded" in page
    assert "sub/empty.txt: the file is empty &lt;nothing to grade&gt;" in page
    assert '<table class="parts">' not in page
    row = [r for r in index.read_text(encoding="utf-8").split("<tr") if "sub_empty.html" in r][0]
    assert 'class="error"' in row and "the file is empty" in row


def test_no_submissions_still_writes_an_index(tmp_path):
    index = write_html([], PROBLEM, tmp_path)
    assert "No submissions." in index.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


# ---- page names ------------------------------------------------------------------------


def test_same_base_name_in_two_folders_gets_two_readable_pages(tmp_path):
    index = write_html(
        [report("/home/ta/hw/a/sub.txt"), report("/home/ta/hw/b/sub.txt", ("incorrect",) * 3)], PROBLEM, tmp_path
    )
    html = index.read_text(encoding="utf-8")
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', html) == [
        ("a_sub.html", "a/sub.txt"),
        ("b_sub.html", "b/sub.txt"),
    ]
    page = (tmp_path / "a_sub.html").read_text(encoding="utf-8")
    assert "<title>a/sub.txt — " in page and "/home/ta" not in page.split("</title>")[0]


@pytest.mark.parametrize(
    "files, expected",
    [
        (["a/sub.txt", "b/sub.txt", "c/sub.md"], ["a_sub.html", "b_sub.html", "c_sub.html"]),
        (["Sub.txt", "sub.txt"], ["Sub.html", "sub-2.html"]),
        (["x.txt", "x.txt", "x-2.txt"], ["x.html", "x-2.html", "x-2-2.html"]),
        (["../../etc/passwd"], ["passwd.html"]),
        (["C:\\students\\name with spaces.txt"], ["name_with_spaces.html"]),
        (["index.txt", "con.txt"], ["sub-index.html", "sub-con.html"]),
        ([".hidden", "", "<>.txt", "ünï.txt"], ["hidden.html", "submission.html", "submission-2.html", "ünï.html"]),
        (["李华.md", "Ødegård Zoë.md"], ["李华.html", "Ødegård_Zoë.html"]),
        (["000_b3977691d49c3cd6.txt"], ["000_b3977691d49c3cd6.html"]),
        (["/abs/hw/a/hw.md", "/abs/hw/b/hw.md"], ["a_hw.html", "b_hw.html"]),
    ],
    ids=[
        "same-base",
        "case",
        "suffix-clash",
        "traversal",
        "windows-spaces",
        "reserved",
        "odd",
        "unicode",
        "seed",
        "absolute",
    ],
)
def test_page_names(files, expected):
    names = page_names(files)
    assert names == expected
    assert len({n.lower() for n in names}) == len(names)
    assert all(re.fullmatch(r"[^\W_][\w-]*\.html", n) and n != "index.html" for n in names)


def test_long_names_are_cut():
    (name,) = page_names(["a" * 300 + ".txt"])
    assert len(name) == 80 + len(".html")


# ---- in a browser ------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(browser: str, page: Path, png: Path, profile: Path) -> None:
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1200,900",
            page.resolve().as_uri(),
        ],
        check=True,
        timeout=60,
        capture_output=True,
    )


def test_pages_render_in_headless_chromium(out, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not installed; .ci/run installs it")
    index = out[0]
    for page in (index, index.parent / "class_alice.html"):
        png = tmp_path / f"{page.stem}.png"
        screenshot(browser, page, png, tmp_path / f"profile-{page.stem}")
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 5_000, f"{png} is only {len(data)} bytes"
