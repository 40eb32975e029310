"""Issue 10: outputs that cannot be turned against their reader. Hostile file names and student
text stay text in LaTeX, CSV, the terminal, HTML and JSON; a non-UTF-8 name works everywhere."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.output.escape import csv_cell, display_name, escape_text, latex_comment, terminal_text

ROOT = Path(__file__).resolve().parent.parent
GOOD = r"$$\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta)$$" + "\n"
LATEX_PAYLOAD = "x\n\\input{^^2fetc^^2fhostname}\n\\immediate\\openout5=pwned.tex\n.md"


@pytest.mark.parametrize(
    "text, forbidden",
    [
        pytest.param("a\n\\input{/etc/hostname}", ["\n", "\\input"], id="newline-input"),
        pytest.param("^^2fetc^^2fhostname", ["^^"], id="caret-notation"),
        pytest.param("\\immediate\\openout5=x", ["\\immediate", "\\openout"], id="openout"),
        pytest.param("50% {done} #1 $x$ ~", ["%", "#", "$"], id="specials"),
        pytest.param("tab\there\rcr\x0cff\x00nul", ["\t", "\r", "\x0c", "\x00"], id="controls"),
        pytest.param("caf\udce9.md", ["\udce9"], id="non-utf8"),
    ],
)
def test_latex_text_is_inert(text, forbidden):
    for escaped in (escape_text(text), latex_comment(text)):
        assert not any(
            f
            in escaped.replace(r"\textbackslash{}", "/")
            .replace(r"\%", "")
            .replace(r"\#", "")
            .replace(r"\$", "")
            .replace(r"\textasciicircum{}", "")
            for f in forbidden
        )
        escaped.encode("ascii")


@pytest.mark.parametrize(
    "cell, shown",
    [
        ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+1+cmd", "'+1+cmd"),
        ("-2+3", "'-2+3"),
        ("\tcmd", "cmd"),
        ("\rcmd", "cmd"),
        ("\t=1+1", "'=1+1"),
        (" =1+1", "' =1+1"),
        ("=1+1.md", "'=1+1.md"),
        ("a\x00b\x1b[31m\u202ec", "ab[31mc"),
        ("-2.5", "-2.5"),
        ("-", "-"),
    ],
    ids=[
        "hyperlink",
        "at",
        "plus",
        "minus",
        "tab",
        "cr",
        "tab-formula",
        "space-formula",
        "name",
        "controls",
        "number",
        "dash",
    ],
)
def test_csv_cells_are_never_formulas(cell, shown):
    assert csv_cell(cell) == shown


@pytest.mark.parametrize(
    "text", ["\x1b[2J\x1b[31mred", "bell\x07", "back\x08space", "\x9bcsi", "rtl\u202eevil", "cr\rover"]
)
def test_terminal_text_has_no_control_characters(text):
    shown = terminal_text(text)
    assert all(ch.isprintable() for ch in shown) and "\\x" in shown or "\\u" in shown


def test_display_name_is_encodable():
    assert display_name("caf\udce9.md") == "caf\\xe9.md"
    display_name("caf\udce9.md").encode("utf-8")


def _grade(files: list[bytes], *flags: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SYMDERIV_CACHE="0")
    cmd = [
        sys.executable.encode(),
        b"-m",
        b"symderiv.cli",
        b"grade",
        b"--key",
        b"softmax-2layer",
        b"--no-symbolic",
        *[f.encode() for f in flags],
        *files,
    ]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=300)


@pytest.fixture
def hostile(tmp_path):
    names = [
        LATEX_PAYLOAD.encode(),
        b"=HYPERLINK(\"evil\")",
        b"@SUM(1+1).md",
        b"\x1b[2Jesc\x07.md",
        b"caf\xe9-latin1.md",
        b"+cmd.md",
    ]
    folder = tmp_path
    for name in names:
        with open(os.path.join(os.fsencode(folder), name), "w") as f:
            f.write(GOOD)
    return names  # relative to the folder the tests run in, as a TA would type them


@pytest.mark.parametrize("flags", [[], ["--json"], ["--jsonl"], ["--csv"]], ids=["table", "json", "jsonl", "csv"])
def test_every_output_takes_any_file_name(hostile, tmp_path, flags):
    done = _grade(
        hostile, *flags, "--html", str(tmp_path / "html"), "--export-latex", str(tmp_path / "tex"), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out = done.stdout.decode("utf-8")  # valid UTF-8, whatever the names were
    assert b"\x1b" not in done.stdout and b"\x1b" not in done.stderr and b"\x07" not in done.stdout
    if flags == ["--json"]:
        assert len(json.loads(out)) == len(hostile)
    elif flags == ["--jsonl"]:
        assert len([json.loads(line) for line in out.splitlines()]) == len(hostile)
    elif flags == ["--csv"]:
        rows = list(csv.reader(io.StringIO(out)))
        assert len(rows) == len(hostile) + 1
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row)
    pages = list((tmp_path / "html").iterdir())
    assert len(pages) == len(hostile) + 1 and all(p.read_text(encoding="utf-8") for p in pages)
    texs = list((tmp_path / "tex").iterdir())
    assert len(texs) == len(hostile) and all(t.stat().st_size > 0 for t in texs)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_a_file_name_cannot_make_pdflatex_read_or_write_files(hostile, tmp_path):
    done = _grade(hostile[:1], "--export-latex", str(tmp_path / "tex"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (tex,) = (tmp_path / "tex").iterdir()
    assert all(not line.lstrip().startswith(("\\input", "\\immediate")) for line in tex.read_text().splitlines())
    compiled = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-recorder", tex.name],
        cwd=tex.parent,
        capture_output=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stdout[-2000:]
    record = (tex.parent / tex.with_suffix(".fls").name).read_text().splitlines()
    inputs = [line.split(" ", 1)[1] for line in record if line.startswith("INPUT ")]
    outputs = [line.split(" ", 1)[1] for line in record if line.startswith("OUTPUT ")]
    assert "/etc/hostname" not in inputs and not any(i.endswith("hostname") for i in inputs)
    assert all(Path(o).stem == tex.stem for o in outputs)  # only the job's own .log, .aux, .pdf
    assert not (tex.parent / "pwned.tex").exists()
