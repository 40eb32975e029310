"""`symderiv serve`'s JSON API through Starlette's TestClient: the same judgement as `check`
and `grade`, and clear errors for oversized, malformed and hostile input."""

import asyncio
import json
import os
import socket
import time
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from symderiv import check_claim, grade_text
from symderiv.answerkey.problem import load_problem
from symderiv.cli import main
from symderiv.grading.results import GradeConfig
from symderiv.notation.mathtext import feedback_unicode
from symderiv.web import ConfigError, RateLimit, ServeConfig, create_app, parse_rate_limit
from symderiv.web.app import ApiResponse, loopback_hosts
from symderiv.web.config import MAX_CLAIM_CHARS, MAX_TEXT_BYTES
from symderiv.web.pool import JobTimeout, PoolBusy, WorkerPool
from symderiv.web.ratelimit import RateLimiter
from symderiv.web.view import build_view

ROOT = Path(__file__).resolve().parent.parent
PLANTED = ROOT / "tests" / "fixtures" / "web" / "softmax-one-wrong-step.md"
BOB = ROOT / "examples" / "softmax-bob.md"


@pytest.fixture(scope="module")
def client():
    app = create_app(ServeConfig(workers=2, rate_limit=None))
    with TestClient(app) as c:
        yield c


def without_timings(value):
    """Results minus the measured seconds, which differ between two runs of the same check."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


# ---- the same judgement as the library -------------------------------------------------------

CLAIMS = [
    pytest.param("softmax-2layer", "dJ/dz3", r"\frac{1}{N}(\psi(z^{(3)}) - \Delta)", "correct", id="right"),
    pytest.param(
        "softmax-2layer",
        "dJt/dW2",
        r"\frac{1}{N}(\psi(z^{(3)})-\Delta)a^{(2)} + 2\lambda W^{(2)}",
        "correct-up-to-layout",
        id="layout",
    ),
    pytest.param("softmax-2layer", "dJ/dz3", r"\frac{1}{N}(\Delta - \psi(z^{(3)}))", "incorrect", id="wrong-sign"),
    pytest.param("softmax-2layer", "dJ/dz3", r"\frac{1}{N}(\psi(z^{(3)}) - ", "unparseable", id="unparseable"),
    pytest.param(
        "softmax-2layer",
        r"\frac{\partial \tilde J}{\partial W^{(2)}}",
        r"\frac{1}{N}(\psi(z^{(3)})-\Delta)a^{(2)T} + 2\lambda W^{(2)}",
        "correct",
        id="latex-left-side",
    ),
    pytest.param("sigmoid-bce-1hidden", "dL/dz2", r"a^{[2]} - y", "correct", id="other-key"),
]


@pytest.mark.parametrize("problem, quantity, claim, verdict", CLAIMS)
def test_check_answers_what_check_json_prints(client, problem, quantity, claim, verdict):
    got = client.post("/api/check", json={"problem": problem, "quantity": quantity, "claim": claim})
    assert got.status_code == 200, got.text
    assert got.json()["verdict"] == verdict
    expected = json.loads(json.dumps(check_claim(problem, quantity, claim).to_dict()))
    answer = got.json()
    # the page shows the feedback with its formulas in Unicode, never as LaTeX source
    assert answer.pop("feedback_text") == feedback_unicode(answer["feedback"])
    assert without_timings(answer) == without_timings(expected)


@pytest.mark.parametrize("path", [BOB, PLANTED, ROOT / "examples" / "softmax-alice.md"], ids=lambda p: p.stem)
def test_grade_answers_what_grade_json_prints(client, path):
    text = path.read_text(encoding="utf-8")
    got = client.post("/api/grade", json={"problem": "softmax-2layer", "text": text})
    assert got.status_code == 200, got.text
    expected = json.loads(json.dumps(grade_text(text, "softmax-2layer").to_dict(), default=str))
    assert without_timings(got.json()) == without_timings(expected)


def test_view_marks_the_planted_wrong_step_and_only_it(client):
    text = PLANTED.read_text(encoding="utf-8")
    view = client.post("/api/view", json={"problem": "softmax-2layer", "text": text}).json()
    wrong_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("$$="))
    marks = {line["line"]: line["mark"] for line in view["lines"]}
    assert marks.pop(wrong_line) == "✗"
    assert marks and set(marks.values()) == {"✓"}
    part = next(p for p in view["parts"] if p["quantity"] == "dJt/dW1")
    assert (part["verdict"], part["first_wrong_line"]) == ("incorrect", wrong_line)
    assert view["report"] == client.post("/api/grade", json={"problem": "softmax-2layer", "text": text}).json()


@pytest.mark.parametrize(
    "line, texts, math",
    [
        (7, ["∂J̃/∂W⁽²⁾: Wrong: the regularisation term should be 2λW⁽²⁾, not λW⁽²⁾"], 0),
        (12, ["∂J̃/∂W⁽¹⁾: Wrong: the activation derivative 𝟙[z⁽²⁾ > 0] is missing"], 0),
        (16, ["∂J/∂b⁽¹⁾: The sign is wrong", "This step does not hold:"], 1),
    ],
    ids=["regulariser", "activation", "sign-and-chain"],
)
def test_the_view_says_each_message_of_a_line_once(line, texts, math):
    """A wrong final answer's step says what its part says: the page shows it once under the line;
    a step of a chain that does not hold is shown as math (left ≠ right), never as LaTeX source."""
    text = BOB.read_text(encoding="utf-8")
    report = json.loads(
        json.dumps(grade_text(text, "softmax-2layer", config=GradeConfig(symbolic=False)).to_dict(), default=str)
    )
    (shown,) = [entry for entry in build_view(report, text)["lines"] if entry["line"] == line]
    said = [m["text"] for m in shown["messages"]]
    assert len(said) == len(texts) and all(s.startswith(t) for s, t in zip(said, texts, strict=True)), said
    assert sum(1 for m in shown["messages"] if "<math" in m["math"]) == math
    assert "\\" not in " ".join(said)


def test_problems_lists_every_key_with_its_parts(client):
    listed = {p["id"]: p for p in client.get("/api/problems").json()["problems"]}
    assert {"softmax-2layer", "sigmoid-bce-1hidden", "mlp-general"} <= set(listed)
    for pid, entry in listed.items():
        key = load_problem(pid)
        assert entry["parts"] == list(key.parts)
        assert [q["id"] for q in entry["quantities"]] == [q.id for q in key.quantities]


def test_problems_come_with_their_statement_rendered(client):
    listed = {p["id"]: p for p in client.get("/api/problems").json()["problems"]}
    html = listed["softmax-2layer"]["statement_html"]
    assert "<math" in html and "one-hot label matrix" in html and "$" not in html
    parser = Markup()
    parser.feed(html)
    assert parser.bad == []


def test_page_and_static_files_are_served_with_a_strict_policy(client):
    for path, kind in [("/", "text/html"), ("/static/app.js", "javascript"), ("/static/style.css", "text/css")]:
        got = client.get(path)
        assert got.status_code == 200 and kind in got.headers["content-type"]
        assert "script-src 'self'" in got.headers["content-security-policy"]
        assert got.headers["x-content-type-options"] == "nosniff"


# ---- bad requests: a clear JSON error each --------------------------------------------------

GOOD_CHECK = {"problem": "softmax-2layer", "quantity": "dJ/dz3", "claim": r"\frac{1}{N}(\psi - \Delta)"}
BAD_REQUESTS = [
    pytest.param("/api/check", {**GOOD_CHECK, "problem": "no-such-key"}, 404, "no problem", id="unknown-problem"),
    pytest.param("/api/check", {**GOOD_CHECK, "problem": "../../../etc/passwd"}, 404, "no problem", id="path-up"),
    pytest.param(
        "/api/grade",
        {"problem": str(ROOT / "derivations" / "softmax-2layer.toml"), "text": "x"},
        404,
        "no problem",
        id="path-to-a-key-file",
    ),
    pytest.param("/api/check", {**GOOD_CHECK, "quantity": "dJ/dQ9"}, 400, "no quantity", id="unknown-quantity"),
    pytest.param(
        "/api/check",
        {"problem": "softmax-2layer", "quantity": "dJ/dz3"},
        400,
        "missing field 'claim'",
        id="missing-field",
    ),
    pytest.param("/api/check", {**GOOD_CHECK, "claim": 42}, 400, "must be a string", id="number-claim"),
    pytest.param("/api/check", {**GOOD_CHECK, "claim": ["a"]}, 400, "must be a string", id="list-claim"),
    pytest.param("/api/grade", {"problem": "softmax-2layer", "text": None}, 400, "missing field", id="null-text"),
    pytest.param(
        "/api/check",
        {**GOOD_CHECK, "claim": "x" * (MAX_CLAIM_CHARS + 1)},
        413,
        "the limit is 20,000",
        id="claim-too-long",
    ),
    pytest.param(
        "/api/grade",
        {"problem": "softmax-2layer", "text": "a" * (MAX_TEXT_BYTES + 1)},
        413,
        "limit of 256 KB",
        id="text-too-long",
    ),
    pytest.param(
        "/api/grade",
        {"problem": "softmax-2layer", "text": "é" * (MAX_TEXT_BYTES // 2 + 1)},
        413,
        "limit of 256 KB",
        id="text-too-long-in-utf8",
    ),
    pytest.param("/api/view", {"problem": "softmax-2layer", "text": "$$x = 1$$\x00"}, 400, "NUL", id="nul-byte"),
    pytest.param("/api/check", {**GOOD_CHECK, "problem": "p" * 10_000}, 413, "problem is", id="huge-problem-id"),
    pytest.param("/api/check", {**GOOD_CHECK, "problem": "p" * 201}, 413, "problem is", id="problem-id-201"),
    pytest.param("/api/check", {**GOOD_CHECK, "problem": "p" * 200}, 404, "no problem", id="problem-id-200"),
    pytest.param("/api/check", {**GOOD_CHECK, "quantity": "q" * 2_001}, 413, "quantity is", id="quantity-2001"),
    pytest.param("/api/check", {**GOOD_CHECK, "quantity": "q" * 2_000}, 400, "no quantity", id="quantity-2000"),
]


@pytest.mark.parametrize("path, body, status, message", BAD_REQUESTS)
def test_bad_request_gets_a_json_error(client, path, body, status, message):
    got = client.post(path, json=body)
    assert got.status_code == status, got.text
    assert message in got.json()["error"]


RAW_REQUESTS = [
    pytest.param(b"{not json", "application/json", 400, "not valid JSON", id="not-json"),
    pytest.param(b"[1, 2]", "application/json", 400, "must be a JSON object", id="json-array"),
    pytest.param(b"\xff\xfe{}", "application/json", 400, "not valid JSON", id="not-utf8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "not valid JSON", id="deep-json"),
    pytest.param(json.dumps(GOOD_CHECK).encode(), "text/plain", 415, "application/json", id="text-plain"),
    pytest.param(b"problem=x", "application/x-www-form-urlencoded", 415, "application/json", id="form"),
    pytest.param(b" " * (2 * MAX_TEXT_BYTES + 1), "application/json", 413, "the limit is", id="huge-body"),
]


@pytest.mark.parametrize("body, kind, status, message", RAW_REQUESTS)
def test_malformed_body_gets_a_json_error(client, body, kind, status, message):
    got = client.post("/api/check", content=body, headers={"content-type": kind})
    assert got.status_code == status, got.text
    assert message in got.json()["error"]


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/check", 405),
        ("POST", "/api/problems", 405),
        ("GET", "/api/nothing", 404),
        ("GET", "/static/../cli.py", 404),
    ],
)
def test_wrong_route_or_method_is_a_json_error(client, method, path, status):
    got = client.request(method, path)
    assert got.status_code == status
    assert "error" in got.json()


# ---- hostile text: nothing the student types becomes markup ---------------------------------

SAFE_TAGS = {"div", "span", "code"}
SAFE_ATTRS = {
    "class",
    "xmlns",
    "display",
    "displaystyle",
    "mathvariant",
    "stretchy",
    "fence",
    "form",
    "separator",
    "lspace",
    "rspace",
    "width",
    "height",
    "depth",
    "linethickness",
    "columnalign",
    "rowspacing",
    "columnspacing",
    "rowalign",
    "columnlines",
    "rowlines",
    "frame",
    "movablelimits",
    "largeop",
    "accent",
    "accentunder",
    "minsize",
    "maxsize",
    "symmetric",
    "scriptlevel",
    "mathsize",
    "mathcolor",
    "mathbackground",
    "notation",
    "voffset",
    "equalrows",
    "equalcolumns",
    "linebreak",
}


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bad = []

    def handle_starttag(self, tag, attrs):
        if not (tag in SAFE_TAGS or tag == "math" or tag.startswith("m") or tag == "none"):
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            if name not in SAFE_ATTRS or "javascript:" in (value or "").lower():
                self.bad.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def unsafe_markup(view: dict) -> list[str]:
    fragments = [m for line in view["lines"] for m in line["math"]]
    fragments += [msg["math"] for line in view["lines"] for msg in line["messages"]]
    fragments += [p["claim"] for p in view["parts"]]
    parser = Markup()
    for fragment in fragments:
        parser.feed(fragment)
    return parser.bad


HOSTILE = [
    pytest.param("<script>alert(1)</script>\n$$a = <script>alert(1)</script>$$", id="script-tag"),
    pytest.param(r"$$\text{<img src=x onerror=alert(1)>} = 1$$", id="text-img"),
    pytest.param(r"$$\href{javascript:alert(1)}{x} = 1$$", id="href-javascript"),
    pytest.param(r'$$x^{"><svg onload=alert(1)>} = y$$', id="attribute-break"),
    pytest.param(r'$$\color{red" onmouseover="alert(1)}{x} = 1$$', id="color-attribute"),
    pytest.param(r"$$\mathrm{</math><iframe src=//evil>} = 1$$", id="close-math"),
    pytest.param(
        r"$$\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}(\psi(z^{(3)}) - \Delta) \text{&lt;b&gt;}$$", id="entities"
    ),
    pytest.param("$$" + "{" * 5000 + "x" + "}" * 5000 + " = 1$$", id="deep-nesting"),
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_cannot_inject_markup(client, text):
    got = client.post("/api/view", json={"problem": "softmax-2layer", "text": text})
    assert got.status_code == 200, got.text
    assert unsafe_markup(got.json()) == []
    for line in got.json()["lines"]:  # plain-text fields are set as text by the page
        assert all(isinstance(m["text"], str) for m in line["messages"])


TOKENS = [
    "$$",
    "$",
    "\n",
    "=",
    "x",
    "^",
    "_",
    "{",
    "}",
    "\\frac",
    "\\text{",
    "\\href{",
    "\\color{",
    "<",
    ">",
    '"',
    "'",
    "&",
    "#x3c;",
    "onerror=",
    "<script>",
    "</math>",
    "\\\\",
    " ",
    "\\begin{cases}",
    "&",
    "\\end{cases}",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_no_text_renders_to_unsafe_markup(text):
    assert unsafe_markup(build_view({"parts": [], "steps": []}, text)) == []


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "problem": st.sampled_from(["softmax-2layer", "mlp-general", "nope", ""]) | JSON_VALUES,
        "quantity": st.sampled_from(["dJ/dz3", "delta-L", "\\frac{\\partial J}{\\partial z^{(3)}}"]) | JSON_VALUES,
        "claim": st.text(max_size=40) | JSON_VALUES,
        "text": st.text(max_size=80) | JSON_VALUES,
    },
)


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(["/api/check", "/api/grade", "/api/view"]), body=FIELDS | JSON_VALUES)
def test_any_json_body_gets_an_answer_or_a_json_error(client, path, body):
    got = client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
    assert got.status_code in (200, 400, 404, 413), got.text
    data = got.json()
    assert ("error" in data) == (got.status_code != 200)


# ---- limits a course sets ------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after():
    app = create_app(ServeConfig(workers=1, rate_limit=RateLimit(3, 60.0)))
    c = TestClient(app)  # no lifespan: these requests never reach the workers
    body = {**GOOD_CHECK, "problem": "no-such-key"}
    statuses = [c.post("/api/check", json=body).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    refused = c.post("/api/check", json=body)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "too many requests" in refused.json()["error"]


@pytest.mark.parametrize("host, status", [("127.0.0.1:8000", 200), ("localhost", 200), ("evil.example", 400)])
def test_a_loopback_server_accepts_only_loopback_host_names(host, status):
    app = create_app(ServeConfig(workers=1), allowed_hosts=loopback_hosts())
    assert TestClient(app, base_url=f"http://{host}").get("/api/problems").status_code == status


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30/min", RateLimit(30, 60.0)),
        ("5/s", RateLimit(5, 1.0)),
        ("600/hour", RateLimit(600, 3600.0)),
        ("10/30", RateLimit(10, 30.0)),
        ("2/5min", RateLimit(2, 300.0)),
        ("0", None),
        ("off", None),
    ],
)
def test_rate_limit_setting_is_read(text, expected):
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize("text", ["fast", "10", "10/fortnight", "0/min", "-3/min", "5/0", "1/2days"])
def test_bad_rate_limit_setting_names_itself(text):
    with pytest.raises(ConfigError, match="--rate-limit"):
        parse_rate_limit(text)


@pytest.mark.parametrize(
    "kwargs, flag",
    [
        ({"workers": 0}, "--workers"),
        ({"workers": 65}, "--workers"),
        ({"time_limit": 0}, "--time-limit"),
        ({"time_limit": 601}, "--time-limit"),
        ({"port": 70000}, "--port"),
    ],
)
def test_settings_outside_their_bounds_are_refused(kwargs, flag):
    with pytest.raises(ConfigError, match=flag):
        ServeConfig(**kwargs)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["serve", "--workers", "0"], "--workers 0"),
        (["serve", "--rate-limit", "lots"], "--rate-limit"),
        (["serve", "--keys", "/nonexistent/keys"], "not a folder"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_serve_refuses_a_port_in_use_in_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert "cannot listen there" in err and err.count("\n") == 1


def test_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(RateLimit(2, 10.0), clock=lambda: now[0])
    assert [limiter.allow("a"), limiter.allow("a")] == [0.0, 0.0]
    assert limiter.allow("a") == pytest.approx(5.0)
    assert limiter.allow("b") == 0.0
    now[0] = 5.0
    assert limiter.allow("a") == 0.0


def test_keys_folder_is_served(tmp_path):
    (tmp_path / "only.toml").write_text((ROOT / "derivations" / "softmax-2layer.toml").read_text(encoding="utf-8"))
    app = create_app(ServeConfig(keys=tmp_path, workers=1))
    assert [p["id"] for p in TestClient(app).get("/api/problems").json()["problems"]] == ["softmax-2layer"]


def test_infinite_numbers_are_sent_as_null():
    assert json.loads(ApiResponse({"max_rel_err": float("inf"), "x": [float("nan"), 1.5]}).body) == {
        "max_rel_err": None,
        "x": [None, 1.5],
    }


# ---- the worker pool -----------------------------------------------------------------------


def test_a_job_over_the_time_limit_is_stopped_and_its_worker_replaced():
    async def scenario():
        pool = WorkerPool(size=1, time_limit=1.0)
        await pool.start()
        try:
            first = await pool.run(os.getpid)
            with pytest.raises(JobTimeout, match="time limit of 1 s"):
                await pool.run(time.sleep, 30)
            second = await pool.run(os.getpid)
        finally:
            pool.close()
        return first, second

    first, second = asyncio.run(scenario())
    assert first != second


def test_a_timeout_also_stops_the_processes_the_job_started(tmp_path):
    # The job's shell and its `sleep` stand for the SymPy worker that symderiv's limits start.
    pid_file = tmp_path / "grandchild.pid"

    async def scenario():
        pool = WorkerPool(size=1, time_limit=1.0)
        await pool.start()
        try:
            with pytest.raises(JobTimeout):
                await pool.run(os.system, f"sleep 300 & echo $! > {pid_file}; wait")
        finally:
            pool.close()

    asyncio.run(scenario())
    grandchild = int(pid_file.read_text())
    for _ in range(100):  # killed at once; reaping may take a moment
        if not alive(grandchild):
            break
        time.sleep(0.05)
    assert not alive(grandchild)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"  # a zombie is dead, only not yet reaped
    except FileNotFoundError:
        return False


def test_the_page_files_are_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["symderiv.web"]
    web = ROOT / "symderiv" / "web"
    shipped = {p for g in globs for p in web.glob(g) if p.is_file()}
    assert shipped == {p for p in (web / "static").iterdir() if p.is_file()}


def test_a_request_that_finds_every_worker_busy_is_told_so():
    async def scenario():
        pool = WorkerPool(size=1, time_limit=10.0, queue_wait=0.2)
        await pool.start()
        try:
            slow = asyncio.ensure_future(pool.run(time.sleep, 1.5))
            await asyncio.sleep(0.1)
            with pytest.raises(PoolBusy, match="busy"):
                await pool.run(os.getpid)
            await slow
            return await pool.run(os.getpid)  # free again once the slow job is done
        finally:
            pool.close()

    assert asyncio.run(scenario()) > 0
