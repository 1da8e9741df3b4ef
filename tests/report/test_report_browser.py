"""The report in a real browser: headless Chromium (Debian's ``chromium``).

Chromium loads the saved report from disk with background networking off, its console routed to
stderr (``--enable-logging=stderr --v=0``: every console message and uncaught error is a
``CONSOLE`` line) and a network log (``--log-net-log``) that records every URL request. A page's
own requests are the ones whose network isolation key is the file:// site; Chromium's background
services have none. The harness is first checked on a probe page that logs to the console and
requests an image from the network, so a silent harness cannot pass the real report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from classdyad.report import SECTIONS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium); the browser check of "
           "the report needs it")


@dataclass(frozen=True)
class PageLoad:
    dom: str
    console: list[str]
    requests: list[str]


def load_in_chromium(page: Path, profile: Path) -> PageLoad:
    """Open ``page`` in headless Chromium; return the DOM, console lines and page requests."""
    net_log = profile.parent / f"{profile.name}-net.json"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr",
               "--v=0", f"--log-net-log={net_log}", "--dump-dom", page.resolve().as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = [event["params"]["url"] for event in log["events"]
                if event["type"] == start_job
                and "file://" in event.get("params", {}).get("network_isolation_key", "")
                and not event["params"]["url"].startswith(("file:", "data:"))]
    return PageLoad(dom=done.stdout, console=console, requests=requests)


def test_the_harness_sees_console_messages_and_network_requests(tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/x.png">'
                     '<script>console.error("probe")</script></body></html>', encoding="utf-8")
    loaded = load_in_chromium(probe, tmp_path / "profile")
    assert any('"probe"' in line for line in loaded.console)
    assert loaded.requests == ["http://example.invalid/x.png"]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_report_loads_cleanly_with_every_section(written_reports, tmp_path: Path,
                                                     language: str) -> None:
    path = written_reports[language][0]
    loaded = load_in_chromium(path, tmp_path / "profile")
    assert loaded.console == []
    assert loaded.requests == []
    for section in SECTIONS:
        assert f'id="{section}"' in loaded.dom
    report = written_reports[language][1]
    assert loaded.dom.count('<svg class="figure"') == len(report.figures)
