"""The checker page in a real headless Chromium (Debian's chromium and chromium-driver, driven
by selenium with those binaries, never a driver that downloads a browser of its own).

It starts `symderiv serve` on a free loopback port, types a derivation with one planted wrong
step and finds ✗ on that line and ✓ on every other; the screenshot is kept as an artefact in
out/ (git-ignored) and in pytest's tmp dir.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PLANTED = ROOT / "tests" / "fixtures" / "web" / "softmax-one-wrong-step.md"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1300",
]

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "symderiv.cli", "serve", "--port", str(port), "--workers", "1", "--rate-limit", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(480):  # a hang guard: the keys are verified before the workers start
            if proc.poll() is not None:
                pytest.fail(f"symderiv serve exited: {proc.stdout.read()}")
            try:
                with urllib.request.urlopen(url + "/api/problems", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        else:
            pytest.fail("symderiv serve did not answer within four minutes")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="symderiv-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(browser, url, problem="softmax-2layer"):
    browser.get(url + "/")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#problem option[value='{problem}']"))
    Select(browser.find_element(By.ID, "problem")).select_by_value(problem)
    editor = browser.find_element(By.ID, "editor")
    editor.clear()
    return editor


def checked(browser, text):
    """Wait until the page shows the verdicts of exactly this text."""

    def done(d):
        status = d.find_element(By.ID, "status")
        return (
            "status-done" in status.get_attribute("class")
            and d.find_element(By.ID, "editor").get_attribute("value") == text
        )

    WebDriverWait(browser, 90, poll_frequency=0.2).until(done)


def save_artefact(browser, tmp_path, name):
    shot = tmp_path / name
    browser.save_screenshot(str(shot))
    (ROOT / "out").mkdir(exist_ok=True)
    shutil.copy(shot, ROOT / "out" / name)
    return shot


def test_typed_derivation_shows_the_wrong_step_and_only_it(server, browser, tmp_path):
    text = PLANTED.read_text(encoding="utf-8")
    editor = open_page(browser, server)
    editor.send_keys(text)
    checked(browser, editor.get_attribute("value"))
    wrong_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("$$="))
    items = browser.find_elements(By.CSS_SELECTOR, "#lines li.line")
    marks = {int(li.get_attribute("data-line")): li.find_element(By.CSS_SELECTOR, ".mark").text for li in items}
    words = {int(li.get_attribute("data-line")): li.find_element(By.CSS_SELECTOR, ".words").text for li in items}
    shot = save_artefact(browser, tmp_path, "serve-planted-wrong-step.png")
    assert shot.stat().st_size > 10_000
    assert (marks.pop(wrong_line), words.pop(wrong_line)) == ("✗", "wrong")
    assert len(marks) >= 5 and set(marks.values()) == {"✓"} and set(words.values()) == {"right"}
    gutter = browser.find_elements(By.CSS_SELECTOR, "#gutter .g-line")
    assert gutter[wrong_line - 1].find_element(By.CSS_SELECTOR, ".g-mark").text == "✗"
    assert browser.find_elements(By.CSS_SELECTOR, "#lines li.line math")  # rendered MathML
    row = browser.find_element(By.CSS_SELECTOR, "#parts tr[data-quantity='dJt/dW1']")
    assert "✗ wrong" in row.text and "activation derivative" in row.text
    editor.send_keys(Keys.ARROW_UP)  # the cursor on the wrong line: its verdict is highlighted
    current = browser.find_elements(By.CSS_SELECTOR, "#lines li.current")
    assert [li.get_attribute("data-line") for li in current] == [str(wrong_line)]


def test_a_dropped_notebook_is_read_from_its_markdown_cells(server, browser, tmp_path):
    cells = [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": ["(a)\n", "$$\\frac{\\partial J}{\\partial z^{(3)}} = \\frac{1}{N}(\\Delta - \\psi(z^{(3)}))$$"],
        },
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": ["import numpy"]},
    ]
    notebook = tmp_path / "hw.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    open_page(browser, server)
    browser.find_element(By.ID, "file").send_keys(str(notebook))
    WebDriverWait(browser, 30).until(lambda d: "psi" in d.find_element(By.ID, "editor").get_attribute("value"))
    checked(browser, browser.find_element(By.ID, "editor").get_attribute("value"))
    assert "import numpy" not in browser.find_element(By.ID, "editor").get_attribute("value")
    item = browser.find_element(By.CSS_SELECTOR, "#lines li.line")
    assert item.find_element(By.CSS_SELECTOR, ".mark").text == "✗"
    assert "sign is wrong" in item.text


def test_typed_markup_stays_text(server, browser):
    hostile = (
        '<img src=x onerror="window.pwned=1">\n'
        '$$\\text{<img src=x onerror=window.pwned=2>} = \\frac{1}{N}$$\n$$x^{"><svg onload=window.pwned=3>} = 1$$'
    )
    editor = open_page(browser, server)
    editor.send_keys(hostile)
    checked(browser, editor.get_attribute("value"))
    assert browser.execute_script("return window.pwned === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "#lines img, #lines svg, #parts img")
    assert "<img" in browser.find_element(By.ID, "lines").text


def test_one_formula_is_checked_from_the_keyboard(server, browser):
    open_page(browser, server)
    browser.find_element(By.CSS_SELECTOR, "#one-formula summary").send_keys(Keys.ENTER)  # opens the details
    Select(browser.find_element(By.ID, "quantity")).select_by_value("dJt/dW2")
    claim = browser.find_element(By.ID, "claim")
    claim.send_keys(r"\frac{1}{N}(\psi(z^{(3)})-\Delta)a^{(2)T} + \lambda W^{(2)}", Keys.ENTER)  # submits the form
    WebDriverWait(browser, 60).until(lambda d: "incorrect" in d.find_element(By.ID, "check-result").text)
    result = browser.find_element(By.ID, "check-result").text
    assert result.startswith("✗ incorrect") and "2λW" in result
