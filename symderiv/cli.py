"""The `symderiv` command. It only parses arguments and calls library functions."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from symderiv.answerkey.problem import available_keys, derivation_files, load_problem, load_problem_file
from symderiv.core.errors import OutputError, SymderivError
from symderiv.core.files import check_output_dir, check_output_file, same_path, write_atomic
from symderiv.grading.batch import DEFAULT_TIMEOUT, run_batch
from symderiv.grading.cluster import DaskExecutor
from symderiv.grading.overrides import apply_late_penalty, apply_overrides, check_targets, load_overrides
from symderiv.grading.results import GradeConfig
from symderiv.grading.verify import verify_file
from symderiv.judging.check import check_claim
from symderiv.output.classview import class_view
from symderiv.output.escape import terminal_text
from symderiv.output.export import export_submissions
from symderiv.output.feedback import write_feedback
from symderiv.output.handout import export_document
from symderiv.output.lms import canvas_gradebook, moodle_worksheet
from symderiv.output.overview import write_html
from symderiv.output.platforms import DEADLINES, GRADESCOPE_VISIBILITY, run_autograder, score_line, started_at
from symderiv.output.report import (
    Progress,
    grade_csv,
    grade_json,
    grade_jsonl_line,
    plain_feedback,
    verdict_text,
    verify_line,
)
from symderiv.output.terminal import class_summary, grade_table
from symderiv.reading.collect import collect
from symderiv.reading.roster import load_roster
from symderiv.web import ConfigError, ServeConfig, parse_forwarded_allow_ips, parse_rate_limit, serve


def _bounded(kind, low: float, high: float, what: str, *, low_open: bool = False):
    """An argparse type: a number in [low, high] ((low, high] when low_open), else a one-line error."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not (low < value if low_open else low <= value) or not value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


SECONDS = _bounded(float, 0, 86_400, "a number of seconds above 0 and at most 86400", low_open=True)
JOBS = _bounded(int, 1, 256, "a number of processes from 1 to 256")
SHARE = _bounded(float, 0, 1, "a share from 0 to 1")
POINTS = _bounded(float, 0, 1_000_000, "a number of points above 0 and at most 1000000", low_open=True)


def _fail(message: str, code: int = 2) -> int:
    print(f"symderiv: {terminal_text(message)}", file=sys.stderr)
    return code


def cmd_check(args) -> int:
    v = check_claim(
        args.problem, args.quantity, args.claim, symbolic=not args.no_symbolic, explain=not args.decide_only
    )
    print(json.dumps(plain_feedback(v.to_dict()), indent=2, ensure_ascii=False) if args.json else verdict_text(v))
    return 0 if v.accepted else 1


def cmd_verify(args) -> int:
    files = [Path(f) for f in args.files] or derivation_files()
    if not files:
        return _fail("no derivation files found (give FILE... or run from the project root)")
    results, failed_files = [], False
    for f in files:
        try:
            got = verify_file(f, on_result=None if args.json else (lambda r: print(verify_line(r), flush=True)))
        except SymderivError as exc:
            print(f"symderiv: {exc}", file=sys.stderr)
            failed_files = True
            continue
        results.extend(got)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2, ensure_ascii=False))
    else:
        worst = max((r.gradcheck_max_rel_err for r in results), default=0.0)
        bad = [r for r in results if not r.ok]
        print(
            f"{len(results) - len(bad)}/{len(results)} quantities verified; "
            f"worst gradcheck relative error {worst:.2e} (limit 1e-7)"
        )
    if failed_files:
        return 2
    return 1 if any(not r.ok for r in results) else 0


def cmd_export(args) -> int:
    files = [Path(f) for f in args.files] or derivation_files()
    try:
        _check_outputs([("-o", args.output, "file")], [str(f) for f in files])
        total = sum(len(load_problem_file(f).quantities) for f in files)
    except SymderivError as exc:
        return _fail(str(exc))
    progress = Progress(total, "verifying")
    try:
        text, summary = export_document(
            files, strict=args.strict, evidence=not args.no_evidence, on_result=lambda r: progress.step(r.quantity)
        )
    except SymderivError as exc:
        return _fail(str(exc), 1 if args.strict else 2)
    finally:
        progress.close()
    write_atomic(args.output, text)
    print(f"wrote {args.output}: {summary}")
    return 0


def cmd_keys(args) -> int:
    keys = available_keys()
    if not keys:
        return _fail("no answer keys found (./derivations, $SYMDERIV_KEYS, shipped)")
    for problem, where in sorted(keys, key=lambda k: k[0].id):
        print(f"{problem.id:26} {where:15} {problem.path}")
        print(f"{'':26} {problem.title}; parts: {', '.join(problem.parts)}")
    return 0


def cmd_grade(args) -> int:
    with tempfile.TemporaryDirectory(prefix="symderiv-") as work:
        return _grade(args, Path(work))


def _lms_target(args, problem, roster) -> tuple[str | None, float | None]:
    """The Canvas assignment column and the assignment's points, checked against the roster
    (SymderivError naming what does not fit). The roster's points (Canvas's Points Possible,
    Moodle's Maximum Grade) are the assignment's total in every output, not only the LMS file."""
    column, listed = None, None
    if args.format == "moodle" and (roster is None or roster.platform != "moodle"):
        what = f"{roster.path} is a {roster.platform} file" if roster is not None else "no --roster was given"
        raise SymderivError(
            f"--format moodle needs --roster WORKSHEET.csv, the assignment's grading worksheet "
            f"(Assignment → Download grading worksheet); {what}"
        )
    if args.format == "canvas" and roster is not None and roster.platform != "canvas":
        raise SymderivError(
            f"--format canvas needs the Canvas gradebook export as --roster (Grades → Export); "
            f"{roster.path} is a {'Moodle grading worksheet' if roster.platform == 'moodle' else 'CSV of names'}"
        )
    if roster is not None and roster.platform == "moodle":
        listed = roster.maximum_grade()
    elif roster is not None and roster.platform == "canvas":
        if args.format == "canvas" or args.assignment or len(roster.assignments()) == 1:
            column = roster.assignment_column(args.assignment)
            listed = roster.points_possible(column)
    elif args.format == "canvas":
        column = args.assignment or problem.title
    if args.points is not None and listed is not None and abs(args.points - listed) > 1e-9:
        raise SymderivError(f"--points {args.points:g}, but {roster.path} says the assignment is out of {listed:g}")
    return column, args.points if args.points is not None else listed


def _check_outputs(outputs: list[tuple[str, str | None, str]], inputs: list[str]) -> None:
    """Every output path usable before any work starts: (flag, path, "file" | "dir"); parents are made.
    Two outputs at one path, or an output over an input, is refused too. OutputError names the flag."""
    named = [(flag, path, kind) for flag, path, kind in outputs if path]
    for i, (flag, path, _) in enumerate(named):
        for other, other_path, _ in named[i + 1 :]:
            if same_path(path, other_path):
                raise OutputError(f"{flag} {path} and {other} {other_path}: the same path; give each output its own")
        for given in inputs:
            if given and os.path.lexists(given) and same_path(path, given):
                raise OutputError(f"{flag} {path}: is also an input ({given}); it would be overwritten")
    for flag, path, kind in named:
        (check_output_file if kind == "file" else check_output_dir)(flag, path)


def _grade_outputs(args) -> list[tuple[str, str | None, str]]:
    return [
        ("--summary-json", args.summary_json, "file"),
        ("--feedback", args.feedback, "dir"),
        ("--html", args.html, "dir"),
        ("--export-latex", args.export_latex, "dir"),
    ]


def _write_outputs(args, reports, problem, view) -> bool:
    """The files `grade` was asked for; one that fails is a line on stderr and the others are still written."""
    ok = True
    writers = [
        (
            args.summary_json,
            lambda: [write_atomic(args.summary_json, json.dumps(view.to_dict(), indent=2, ensure_ascii=False))],
        ),
        (args.feedback, lambda: write_feedback(reports, problem, Path(args.feedback))),
        (args.html, lambda: [write_html(reports, problem, Path(args.html))]),
        (args.export_latex, lambda: export_submissions(reports, problem, Path(args.export_latex))),
    ]
    for target, write in writers:
        if not target:
            continue
        try:
            written = write()
        except OutputError as exc:
            _fail(str(exc))
            ok = False
            continue
        if target == args.feedback:
            print(f"wrote {len(written.files)} feedback files in {terminal_text(target)}", file=sys.stderr)
            for archive in written.zips:
                print(f"wrote {terminal_text(archive)} (upload it as the platform's bulk feedback)", file=sys.stderr)
            for item in written.by_hand:
                print(f"symderiv: note: paste by hand: {terminal_text(item)}", file=sys.stderr)
        else:
            for path in written:
                print(f"wrote {terminal_text(str(path))}", file=sys.stderr)
    return ok


def _grade(args, work: Path) -> int:
    inputs = [*args.submissions, args.key, args.roster, args.overrides]
    _check_outputs(_grade_outputs(args), inputs)
    problem = load_problem(args.key)
    roster = load_roster(args.roster) if args.roster else None
    column, total = _lms_target(args, problem, roster)
    config = GradeConfig(layout_credit=args.layout_credit, symbolic=not args.no_symbolic, total=total)
    overrides = load_overrides(args.overrides) if args.overrides else []
    submissions = collect(args.submissions, work, roster)
    check_targets(submissions, overrides, str(args.overrides))  # a typo in the overrides costs no graded class
    progress = Progress(len(submissions), "grading")

    def finished(job, report) -> None:
        if args.jsonl:  # one line per file as it finishes: an interrupted run keeps them
            print(grade_jsonl_line(report), flush=True)
        progress.step(Path(job.path).name)

    try:
        executor = DaskExecutor(args.dask, workers=args.jobs) if args.dask else None
        reports = run_batch(
            submissions,
            problem,
            config,
            jobs=args.jobs or 1,
            timeout=args.timeout,
            executor=executor,
            on_result=finished,
        )
    finally:
        progress.close()
    most = sum(config.part_points(problem).values())
    reports = apply_overrides(reports, overrides, args.layout_credit, str(args.overrides), total=most)
    reports = apply_late_penalty(reports, args.late_penalty)
    view = class_view(reports, problem)
    left_out = _print_grades(args, reports, problem, view, roster, column, most)
    written = _write_outputs(args, reports, problem, view)
    for r in reports:
        if r.error and not r.by_hand:
            print(f"symderiv: {terminal_text(r.error)}", file=sys.stderr)
    for line in left_out:
        print(f"symderiv: unmatched: {terminal_text(line)}", file=sys.stderr)
    if not written:
        return 2
    return 1 if any(not r.graded for r in reports) or left_out else 0


def _print_grades(args, reports, problem, view, roster, column, most) -> list[str]:
    """The grades on stdout in the format asked for; returns the submissions no row matched (one line each)."""
    if args.json:
        print(grade_json(reports))
    elif args.csv:
        print(grade_csv(reports, list(problem.parts)), end="")
    elif args.format in ("canvas", "moodle"):
        book = (
            canvas_gradebook(reports, column, most, roster)
            if args.format == "canvas"
            else moodle_worksheet(reports, roster, most)
        )
        print(book.text, end="")
        for note in book.notes:
            print(f"symderiv: note: {terminal_text(note)}", file=sys.stderr)
        if args.format == "canvas" and roster is None and not args.assignment:
            print(
                f"symderiv: note: the column is named {column!r}; Canvas creates a new assignment for a name it "
                "does not know (give --roster gradebook.csv and --assignment as the export names it)",
                file=sys.stderr,
            )
        return [line for line in book.left_out if "not graded (" not in line]
    elif not args.jsonl:  # --jsonl printed each report as it finished
        for r in reports:
            print(grade_table(r))
        if len(reports) > 1:
            print()
            print(class_summary(view))
    if roster is None:
        return []
    return [f"{r.file}: not in {roster.path} ({roster.why_unmatched(r.student)})" for r in reports if not _matched(r)]


def _matched(report) -> bool:
    return report.student is not None and report.student.row > 0


def cmd_serve(args) -> int:
    try:
        config = ServeConfig(
            keys=Path(args.keys) if args.keys else None,
            host=args.host,
            port=args.port,
            workers=args.workers,
            rate_limit=parse_rate_limit(args.rate_limit),
            time_limit=args.time_limit,
            symbolic=not args.no_symbolic,
            max_connections=args.max_connections,
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            forwarded_allow_ips=parse_forwarded_allow_ips(args.forwarded_allow_ips),
            hide_feedback=args.hide_feedback,
        )
    except ConfigError as exc:
        return _fail(str(exc))
    serve(config)
    return 0


def cmd_autograder(args) -> int:
    _check_outputs([("--results", args.results, "file")], [args.submission])
    problem = load_problem(args.key)
    config = GradeConfig(layout_credit=args.layout_credit, symbolic=not args.no_symbolic, total=args.points)
    data = run_autograder(
        args.command,
        problem,
        Path(args.submission),
        Path(args.results),
        config,
        getattr(args, "visibility", "visible"),
        deadline=started_at() + args.timeout,
    )
    print(f"wrote {args.results}: {score_line(data, args.command)}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symderiv", description="Check hand-written backpropagation derivations.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="check one claim")
    p.add_argument("problem")
    p.add_argument("quantity", help="a quantity id (dJt/dW2) or the LaTeX left-hand side")
    p.add_argument("claim", help="the claimed closed form, in LaTeX")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-symbolic", action="store_true", help="numeric check only")
    p.add_argument(
        "--decide-only",
        action="store_true",
        help="accept or reject only: a rejection gets no named mistake and no exact check of the difference",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("verify", help="verify derivation files (default: all of derivations/)")
    p.add_argument("files", nargs="*")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("export", help="the solutions handout (LaTeX) of the verified answer keys")
    p.add_argument("files", nargs="*")
    p.add_argument("-o", "--output", default="solutions.tex")
    p.add_argument("--strict", action="store_true", help="refuse if any quantity fails verification")
    p.add_argument(
        "--no-evidence", action="store_true", help="leave out the appendix saying how each result was verified"
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("keys", help="list the answer keys available (id, title, parts, where found)")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("grade", help="grade student submissions")
    p.add_argument(
        "--key",
        required=True,
        help="the answer key: an id (looked up in ./derivations, "
        "$SYMDERIV_KEYS, then the shipped keys) or a path to a .toml file",
    )
    p.add_argument("submissions", nargs="+")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true", help="a spreadsheet: one row per submission, a column per part")
    fmt.add_argument(
        "--format",
        choices=("table", "canvas", "moodle"),
        default="table",
        help="canvas: the Canvas gradebook import CSV; moodle: the Moodle grading worksheet CSV",
    )
    p.add_argument(
        "--assignment",
        help="the Canvas assignment column, as the gradebook export names it "
        "('HW 2 (12345)'); default: the problem's title",
    )
    p.add_argument(
        "--roster",
        metavar="FILE",
        help="the LMS's roster export (Canvas gradebook CSV, Moodle "
        "grading worksheet): names and ids for the submissions",
    )
    p.add_argument(
        "--overrides",
        metavar="FILE",
        help="a CSV of file, part, verdict or points, comment: a TA's changes, applied on top and shown as overrides",
    )
    p.add_argument("--feedback", metavar="DIR", help="write a feedback file per student (Markdown and HTML)")
    p.add_argument(
        "--summary-json",
        metavar="FILE",
        help="write the class view (verdict counts, common mistakes, parts to review) as JSON",
    )
    fmt.add_argument("--jsonl", action="store_true", help="one JSON object per line, printed as each file finishes")
    p.add_argument("--html", metavar="DIR", help="write an HTML report per submission and a class overview")
    p.add_argument("--export-latex", metavar="DIR", help="write each submission's verified parts as LaTeX")
    p.add_argument(
        "--jobs",
        type=JOBS,
        default=None,
        help="grade in N parallel processes (default 1; with --dask local: the workers)",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786), "
        "or 'local' for a LocalCluster of --jobs worker processes (default: one per core)",
    )
    p.add_argument(
        "--timeout",
        type=SECONDS,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"hard time limit per file; a file over it gets an error entry (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "--layout-credit",
        type=SHARE,
        default=0.75,
        help="share of a part's points for correct-up-to-layout (default 0.75)",
    )
    p.add_argument(
        "--points",
        type=POINTS,
        metavar="TOTAL",
        help="the assignment's total points: the key's part points scaled to add up to TOTAL "
        "(default: the roster's Points Possible / Maximum Grade, else the key's)",
    )
    p.add_argument(
        "--late-penalty",
        type=SHARE,
        default=0.0,
        metavar="SHARE",
        help="share of the score taken off a late submission (Canvas's LATE in the file name); default 0",
    )
    p.add_argument("--no-symbolic", action="store_true", help="numeric checks only (faster)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("serve", help="a web page where students check their own derivations")
    p.add_argument("--keys", metavar="DIR", help="folder of answer keys (*.toml; default: the shipped ones)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=2, help="worker processes for the checks (1-64, default 2)")
    p.add_argument(
        "--rate-limit",
        default="60/min",
        metavar="N/PERIOD",
        help="requests per client address: N/s, N/min, N/hour or N/SECONDS; 0 for none (default 60/min)",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=30.0,
        help="seconds one check may take before it is stopped (default 30, at most 600)",
    )
    p.add_argument("--no-symbolic", action="store_true", help="numeric checks only (faster)")
    p.add_argument(
        "--max-connections",
        type=int,
        default=512,
        help="open connections at most; past it the one waiting longest on its client is closed (default 512)",
    )
    p.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds a request's headers may take to arrive (default 10, at most 300)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        help="seconds a request's body may take after its headers (default 30, at most 600)",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        default="",
        metavar="ADDRESSES",
        help="the reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For "
        "names the client; default: none, the connection's own address is the client's",
    )
    p.add_argument(
        "--hide-feedback",
        action="store_true",
        help="before a deadline: show only ✓/✗ per line (no feedback, fixes or scores; a key can ask the same)",
    )
    p.set_defaults(func=cmd_serve)

    for platform, folder, results in (
        ("gradescope", "/autograder/submission", "/autograder/results/results.json"),
        ("prairielearn", "/grade/student", "/grade/results/results.json"),
    ):
        p = sub.add_parser(platform, help=f"the {platform} autograder: grade the submission folder, write results.json")
        p.add_argument("--key", required=True, help="problem id of the answer key")
        p.add_argument("--submission", default=folder, help=f"the student's files (default {folder})")
        p.add_argument("--results", default=results, help=f"where to write results.json (default {results})")
        p.add_argument("--layout-credit", type=SHARE, default=0.75)
        p.add_argument("--no-symbolic", action="store_true", help="numeric checks only (faster)")
        p.add_argument("--points", type=POINTS, help="the assignment's total points (the key's points scaled to it)")
        p.add_argument(
            "--timeout",
            type=SECONDS,
            default=DEADLINES[platform],
            metavar="SECONDS",
            help=f"write the results within SECONDS of starting, graded or not (default {DEADLINES[platform]:g}, "
            f"below {platform}'s own limit)",
        )
        if platform == "gradescope":
            p.add_argument(
                "--visibility",
                choices=GRADESCOPE_VISIBILITY,
                default="visible",
                help="when students see the tests (default visible)",
            )
        p.set_defaults(func=cmd_autograder)
    return parser


CHECK_FLAGS = {"--json", "--no-symbolic", "--decide-only", "-h", "--help"}


def _protect_claim(argv: list[str]) -> list[str]:
    """`symderiv check P Q -\\frac{y}{a}`: a claim may start with a minus sign; keep it positional."""
    if not argv or argv[0] != "check" or "--" in argv:
        return argv
    flags = [a for a in argv[1:] if a in CHECK_FLAGS]
    rest = [a for a in argv[1:] if a not in CHECK_FLAGS]
    return ["check"] + flags + ["--"] + rest


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_protect_claim(argv))
    try:
        return args.func(args)
    except SymderivError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # output piped into `head` and closed: stop quietly, like cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
