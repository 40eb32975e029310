"""Issue 22, item 3: every output path is checked before any grading, written atomically and never
through a symbolic link. A bad path is a one-line error (exit 2) before the batch starts, so no
grading work is lost to it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.cli import main
from symderiv.core.errors import OutputError
from symderiv.core.files import check_output_dir, check_output_file, write_atomic

ROOT = Path(__file__).resolve().parents[1]
ALICE = ROOT / "examples" / "softmax-alice.md"


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A folder with a submission, a plain file, a folder, and links to a file outside it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.md").write_bytes(ALICE.read_bytes())
    (tmp_path / "afile").write_text("keep")
    (tmp_path / "adir").mkdir()
    (tmp_path / "outside.txt").write_text("KEEP")
    (tmp_path / "link.json").symlink_to(tmp_path / "outside.txt")
    return tmp_path


def no_grading(*args, **kwargs):
    raise AssertionError("grading started although an output path is unusable")


@pytest.mark.parametrize(
    "flags, words",
    [
        pytest.param(["--summary-json", "adir"], "--summary-json adir: is a folder", id="summary-json-at-a-folder"),
        pytest.param(
            ["--summary-json", "afile/s.json"],
            "--summary-json afile/s.json: its folder afile is a file, not a folder",
            id="summary-json-under-a-file",
        ),
        pytest.param(
            ["--summary-json", "link.json"],
            "is a symbolic link; symderiv does not write through",
            id="summary-at-a-link",
        ),
        pytest.param(["--html", "afile"], "--html afile: is a file, not a folder", id="html-at-a-file"),
        pytest.param(["--html", "afile/html"], "--html afile/html: cannot be made", id="html-under-a-file"),
        pytest.param(["--feedback", "afile"], "--feedback afile: is a file, not a folder", id="feedback-at-a-file"),
        pytest.param(["--export-latex", "afile"], "--export-latex afile: is a file", id="export-latex-at-a-file"),
        pytest.param(["--summary-json", "a.md"], "is also an input (a.md)", id="output-over-a-submission"),
        pytest.param(["--html", "x", "--feedback", "x"], "the same path", id="two-outputs-one-folder"),
        pytest.param(["--summary-json", "/proc/s.json"], "--summary-json /proc/s.json: cannot write", id="unwritable"),
        pytest.param(["--html", "/proc/html"], "--html /proc/html: cannot be made", id="unmakeable-folder"),
        pytest.param(["--summary-json", "out/"], "--summary-json out/: names a folder", id="a-trailing-slash"),
    ],
)
def test_a_bad_output_path_stops_before_grading(place, monkeypatch, capsys, flags, words):
    monkeypatch.setattr("symderiv.cli.run_batch", no_grading)
    code = main(["grade", "--no-symbolic", "--key", "softmax-2layer", "a.md", *flags])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1
    assert (place / "outside.txt").read_text() == "KEEP" and (place / "afile").read_text() == "keep"


@pytest.mark.parametrize(
    "flags, made",
    [
        pytest.param(["--summary-json", "new/deeper/s.json"], ["new/deeper/s.json"], id="summary-json-parents-made"),
        pytest.param(
            ["--summary-json", "out/s.json", "--html", "out/html"], ["out/s.json", "out/html/index.html"], id="shared"
        ),
        pytest.param(["--feedback", "fb/hw2", "--export-latex", "tex"], ["fb/hw2", "tex"], id="folders-made"),
    ],
)
def test_outputs_are_made_where_a_user_expects(place, capsys, flags, made):
    code = main(["grade", "--no-symbolic", "--key", "softmax-2layer", "a.md", *flags])
    assert code == 0, capsys.readouterr().err
    assert all((place / m).exists() for m in made)
    assert not list(place.rglob("*.tmp")) and not list(place.rglob(".symderiv-write-test*"))


def test_a_link_planted_in_the_html_folder_is_not_followed(place, capsys):
    (place / "html").mkdir()
    (place / "html" / "index.html").symlink_to(place / "outside.txt")
    (place / "html" / "a.html").symlink_to(place / "outside.txt")
    code = main(["grade", "--no-symbolic", "--key", "softmax-2layer", "a.md", "--html", "html"])
    assert code == 0, capsys.readouterr().err
    assert (place / "outside.txt").read_text() == "KEEP"
    for page in ("index.html", "a.html"):
        assert not (place / "html" / page).is_symlink() and "<html" in (place / "html" / page).read_text()


def test_a_failing_output_does_not_stop_the_others(place, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise OutputError("html/index.html: cannot be written (No space left on device)")

    monkeypatch.setattr("symderiv.cli.write_html", broken)
    code = main(
        ["grade", "--no-symbolic", "--key", "softmax-2layer", "a.md", "--html", "h", "--summary-json", "s.json"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "No space left" in err and "Traceback" not in err
    assert json.loads((place / "s.json").read_text())


def test_export_checks_its_output_before_verifying(place, monkeypatch, capsys):
    monkeypatch.setattr("symderiv.cli.export_document", no_grading)
    code = main(["export", str(ROOT / "derivations" / "logreg-l2.toml"), "-o", "adir"])
    err = capsys.readouterr().err
    assert code == 2 and "-o adir: is a folder" in err and "Traceback" not in err


@pytest.mark.parametrize("platform", ["gradescope", "prairielearn"])
def test_an_autograder_results_path_at_a_folder_is_one_line(place, monkeypatch, capsys, platform):
    monkeypatch.setattr("symderiv.output.platforms.grade_by", no_grading)
    (place / "sub").mkdir()
    code = main([platform, "--key", "softmax-2layer", "--submission", "sub", "--results", "adir"])
    err = capsys.readouterr().err
    assert code == 2 and "--results adir: is a folder" in err and "Traceback" not in err


# ---- the helper every writer uses -------------------------------------------------------------


def test_write_atomic_replaces_a_link_and_leaves_its_target(tmp_path):
    target = tmp_path / "target"
    target.write_text("KEEP")
    (tmp_path / "out.html").symlink_to(target)
    write_atomic(tmp_path / "out.html", "new")
    assert target.read_text() == "KEEP" and (tmp_path / "out.html").read_text() == "new"
    assert not (tmp_path / "out.html").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.html", "target"]


def test_write_atomic_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "page.html", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "page.html").stat().st_mode) == 0o644


@pytest.mark.parametrize(
    "make, words",
    [
        pytest.param(lambda p: (p / "out").mkdir(), "cannot be written", id="a-folder-at-the-path"),
        pytest.param(lambda p: None, "cannot be written", id="no-such-folder"),
    ],
)
def test_write_atomic_fails_in_one_line_and_leaves_nothing(tmp_path, make, words):
    make(tmp_path)
    target = tmp_path / "out" if (tmp_path / "out").exists() else tmp_path / "missing" / "out"
    with pytest.raises(OutputError, match=words) as info:
        write_atomic(target, "x")
    assert str(target) in str(info.value) and "\n" not in str(info.value)
    assert not list(tmp_path.rglob("*.tmp"))


@settings(max_examples=40, deadline=None)
@given(name=st.text(st.characters(blacklist_characters="/"), min_size=1, max_size=300).filter(lambda n: n != ".."))
def test_any_output_name_is_a_path_or_a_one_line_error(tmp_path_factory, name):
    """A name of any characters (inside a test folder: no `/`, no `..`)."""
    base = tmp_path_factory.mktemp("names")
    for check in (check_output_file, check_output_dir):
        try:
            path = check("--out", base / name)
        except OutputError as exc:
            assert str(exc).startswith("--out ") and "\n" not in str(exc).replace(name, "")
        else:
            assert path.parent.is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write in a read-only folder")
def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write in"):
            check_output_file("--summary-json", folder / "s.json")
    finally:
        folder.chmod(0o700)
