"""A real browser looks at the report: Debian's headless Chromium, driven over the DevTools
protocol on a pipe (`--remote-debugging-pipe`: fd 3 in, fd 4 out, NUL-separated JSON), so no
port, no network and no extra Python package are needed.

It checks that the page loads with no console error, exception or dialog, that it fetches
nothing but local files, that every image loads, and that a full-page screenshot is not blank.
Set DCGAN_BENCH_SCREENSHOT=path.png to keep the screenshot.
"""

import base64
import fcntl
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from bench.report.render import render_report

GOLDEN = Path(__file__).parent / "data" / "runs" / "golden"
HOSTILE = "<script>alert(1)</script>"
CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe"]

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium; "
                             ".ci/run installs it): no browser to open the report in")]


class Chromium:
    """A headless Chromium and one page, spoken to over the DevTools protocol on a pipe."""

    def __init__(self, profile: Path, timeout=60.0):
        self.timeout, self.events, self._buf, self._next_id = timeout, [], b"", 0
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Chromium reads fd 3 and writes fd 4. Move our ends above 10 first so that dup2 onto
        # 3 and 4 never lands on a descriptor it still needs; dup2 clears close-on-exec.
        high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def child_fds():
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=child_fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # close_fds=True would close 3 and 4 after child_fds; Python's own descriptors are
            # close-on-exec (PEP 446), so nothing else leaks into the browser.
            close_fds=False)
        os.close(high_r)
        os.close(high_w)
        self._out, self._in = to_chrome_w, from_chrome_r
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium closed the pipe (exit {self.proc.poll()})")
            self._buf += chunk
        message, self._buf = self._buf.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def page(self, method, params=None):
        return self.call(method, params, self.session)

    def load(self, url):
        """Navigate and wait for the load event; dialogs (which would block it) are dismissed
        and stay in `events` for the test to see."""
        self.page("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        seen = len(self.events)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if seen < len(self.events):
                seen += 1
                if self.events[seen - 1].get("method") == "Page.javascriptDialogOpening":
                    self.page("Page.handleJavaScriptDialog", {"accept": True})
                continue
            self.events.append(self._read_message(deadline))

    def evaluate(self, expression):
        result = self.page("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def close(self):
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._out)
        os.close(self._in)


@pytest.fixture
def browser(tmp_path):
    chrome = Chromium(tmp_path / "profile")
    yield chrome
    chrome.close()


def _checked_page(browser, index: Path, title: str, min_images: int, min_height: int):
    """Open `index` and check it as a reader would see it; returns the screenshot's pixels."""
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.page(f"{domain}.enable")
    browser.page("Emulation.setDeviceMetricsOverride",
                 {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    browser.load(index.resolve().as_uri())

    images = browser.evaluate("Array.from(document.images).map(i => ({src: i.getAttribute('src'),"
                              " complete: i.complete, width: i.naturalWidth}))")
    assert len(images) >= min_images
    broken = [i["src"] for i in images if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
    assert browser.evaluate("document.title") == title
    assert browser.evaluate("document.scripts.length") == 0

    def events(method):
        return [e["params"] for e in browser.events if e.get("method") == method]

    errors = ([e["entry"]["text"] for e in events("Log.entryAdded")
               if e["entry"]["level"] == "error"]
              + [e["exceptionDetails"].get("text") for e in events("Runtime.exceptionThrown")]
              + [str(e["args"]) for e in events("Runtime.consoleAPICalled")
                 if e["type"] in ("error", "assert")])
    assert not errors, f"console errors: {errors}"
    assert not events("Page.javascriptDialogOpening"), "a dialog opened: escaping failed"
    fetched = [e["request"]["url"] for e in events("Network.requestWillBeSent")]
    assert fetched and all(u.startswith(("file://", "data:")) for u in fetched), fetched

    size = browser.page("Page.getLayoutMetrics")["cssContentSize"]
    shot = browser.page("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    png = base64.b64decode(shot["data"])
    if os.environ.get("DCGAN_BENCH_SCREENSHOT"):
        Path(os.environ["DCGAN_BENCH_SCREENSHOT"]).write_bytes(png)
    from PIL import Image  # matplotlib's own dependency

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    assert pixels.shape[0] > min_height  # the whole page, not one viewport
    assert pixels.std() > 20, "the screenshot is blank"
    assert (pixels < 128).mean() > 0.01, "the screenshot has almost no dark pixels"
    for width in WIDTHS:
        _assert_fits(browser, index, width)
    return pixels


WIDTHS = (1400, 390)  # a laptop, and a phone held upright


def _assert_fits(browser, index: Path, width: int):
    """At `width` CSS pixels the page scrolls only down: nothing (a hash, a path, the navigation)
    pushes it wider, and the navigation shows every link whole. A table wider than the screen
    scrolls inside its own box."""
    browser.page("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
    browser.events.clear()  # load() waits for a load event: not the last page's
    browser.load(index.resolve().as_uri())
    seen = browser.evaluate("""(() => {
        const nav = document.querySelector('nav');
        return {inner: window.innerWidth, page: document.documentElement.scrollWidth,
                nav: nav ? nav.scrollWidth - nav.clientWidth : 0};
    })()""")
    # a phone widens its layout viewport to fit content too wide for it
    assert seen["inner"] == width and seen["page"] <= width, (width, seen)
    assert seen["nav"] <= 0, (width, seen)


def test_report_in_headless_chromium(tmp_path, browser):
    run = tmp_path / "runs" / "golden"
    shutil.copytree(GOLDEN, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["name"] = HOSTILE  # must show as text, and must not run
    manifest["harness"]["commit"] = "0123456789abcdef" * 2 + "01234567"  # 40 characters, as git
    (run / "manifest.json").write_text(json.dumps(manifest))
    index = render_report([run], tmp_path / "report")
    # the figures and the eight ok cells' sample grids
    _checked_page(browser, index, f"dcgan-bench report: {HOSTILE}", 8 + 8, 3000)


def _hostile_nights(tmp_path, speeds):
    """Crafted nights (tests/nights.py) of a grid named like a script, ingested into a history."""
    from nights import craft_night

    from bench.analysis import history

    db = tmp_path / "h.sqlite"
    runs = []
    for i, speed in enumerate(speeds):
        run = craft_night(tmp_path / "nightly", f"night{i}", f"2026-11-0{i + 1}T02:00:00+00:00",
                          speed=speed)
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["name"] = HOSTILE
        (run / "manifest.json").write_text(json.dumps(manifest))
        history.ingest(run, db)
        runs.append(run)
    return db, runs


def test_trend_page_in_headless_chromium(tmp_path, browser):
    from bench.cli import main

    db, runs = _hostile_nights(tmp_path, [1.0, 1.0, 0.8, 1.0])
    for run in runs[1:]:
        main(["compare", "last-good", str(run), "--db", str(db), "--out", str(tmp_path / "c")])
    from bench.report.trend import render_trend

    index = render_trend(db, tmp_path / "trend")
    _checked_page(browser, index, "dcgan-bench trend", 1, 900)
    assert HOSTILE in browser.evaluate("document.body.innerText")  # the grid's name, shown as text
    # one table row per night and configuration (the golden grid's six, the failed bfloat16 and
    # skipped GPU cells' included, as "0/1" cells ok), each with its night's verdict
    rows = browser.evaluate("Array.from(document.querySelectorAll('tbody tr'))"
                            ".map(r => r.innerText)")
    assert len(rows) == 4 * 6
    assert rows[5].split("\t")[4:6] == ["gpu · float32 · XLA on · bs 64", "0/1"]
    verdicts = [r.split("\t")[3] for r in rows[::6]]
    assert verdicts == ["not compared", "ok", "regression", "ok"]


def test_compare_page_in_headless_chromium(tmp_path, browser):
    from bench.cli import main

    _, runs = _hostile_nights(tmp_path, [1.0, 0.8])
    assert main(["compare", str(runs[0]), str(runs[1]), "--out", str(tmp_path / "c")]) == 1
    _checked_page(browser, tmp_path / "c" / "index.html", "dcgan-bench compare: REGRESSION",
                  0, 900)
    text = browser.evaluate("document.body.innerText")
    assert "Because: throughput cpu · float32 · XLA off · bs 64: 0.800x" in text
