"""The coding page in a real browser (Playwright driving Debian's headless ``chromium``).

A short test video is made with Debian's ffmpeg, the frame number burned into each frame. A coder
codes it with the keyboard only; the stored frames are checked against the frame on screen (the
pixels the browser shows are compared with every frame ffmpeg decodes); the browser goes offline,
codes on, comes back, and every event is on the server exactly once. A second test kills the
server with SIGKILL mid-coding and starts it again: nothing is lost.
With ``CLASSDYAD_SCREENSHOTS=FOLDER`` the coding page is saved there as a PNG (README).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import sqlalchemy as sa

from classdyad.model import EventRevision

from .conftest import CHROMIUM, PASSWORDS, _free_socket, chromium

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(CHROMIUM is None or FFMPEG is None,
                                reason="needs Debian's chromium and ffmpeg (apt-get install "
                                "chromium ffmpeg)")
WIDTH, HEIGHT, FPS, SECONDS = 192, 108, 25, 6


@pytest.fixture(scope="module")
def test_video(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A 6-s VP8 video at 25 frames/s with its frame number burned in, and its decoded frames
    (grey levels, one array per frame)."""
    return burned_in_video(tmp_path_factory.mktemp("video") / "lesson.webm", "0x203040", SECONDS)


def burned_in_video(path: Path, colour: str, seconds: float) -> tuple[Path, np.ndarray]:
    """A VP8 video of one colour with its frame number burned in, and its decoded frames."""
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c={colour}:s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds}", "-vf",
                    "drawtext=text='%{frame_num}':fontsize=56:fontcolor=white:x=24:y=24",
                    "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k",
                    "-g", str(FPS), "-pix_fmt", "yuv420p", str(path)], check=True, timeout=120)
    raw = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-i", str(path), "-f",
                          "rawvideo", "-pix_fmt", "gray", "-"], check=True, capture_output=True,
                         timeout=120).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, HEIGHT, WIDTH).astype(float)
    return path, frames


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium("--autoplay-policy=no-user-gesture-required") as launched:
        yield launched


@pytest.fixture(scope="module")
def coded_lesson(server, test_video) -> int:
    """The coder's lesson with the test video attached."""
    shutil.copy(test_video[0], server.media / "lesson.webm")
    researcher = server.client("researcher")
    response = researcher.post(f"/api/v1/lessons/{server.coder_lesson}/videos",
                               json={"path": "lesson.webm"})
    assert response.status_code == 201, response.text
    researcher.close()
    return server.coder_lesson


def _open_coding_page(browser, url: str, lesson_id: int):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.errors.append(m.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    page.goto(f"{url}/login?next=/lessons/{lesson_id}/code")
    page.wait_for_selector("body[data-ready='true']")
    page.fill("input[name=username]", "coder")
    page.fill("input[name=password]", PASSWORDS["coder"])
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-coding='ready']")
    page.wait_for_selector("body[data-video='loaded']")
    return context, page


def _shown_frame(page) -> int:
    return int(page.text_content("[data-frame]"))


def _step_to(page, frame: int) -> None:
    """Frame steps (``.`` / ``,``) until ``frame`` is on screen."""
    for _ in range(200):
        shown = _shown_frame(page)
        if shown == frame:
            return
        page.keyboard.press("." if shown < frame else ",")
        page.wait_for_selector(f"[data-frame][data-value='{shown + (1 if shown < frame else -1)}']")
    raise AssertionError(f"could not step to frame {frame}")


def _screen_pixels(page) -> np.ndarray:
    values = page.evaluate("""() => {
        const video = document.querySelector('video');
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        const context = canvas.getContext('2d');
        context.drawImage(video, 0, 0);
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        const grey = [];
        for (let i = 0; i < data.length; i += 4) {
            grey.push(0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2]);
        }
        return grey;
    }""")
    return np.asarray(values, dtype=float).reshape(HEIGHT, WIDTH)


def _frame_on_screen(page, frames: np.ndarray) -> int:
    """Which decoded frame the browser shows (the closest in grey levels)."""
    pixels = _screen_pixels(page)
    return int(np.argmin(np.abs(frames - pixels).mean(axis=(1, 2))))


def _wait_all_saved(page, timeout: float = 30_000) -> None:
    page.wait_for_selector("body[data-pending='0']", timeout=timeout)


def _server_events(url: str, lesson_id: int) -> list[dict]:
    with httpx.Client(base_url=url, timeout=30) as client:
        login = client.post("/api/v1/auth/login",
                            json={"username": "coder", "password": PASSWORDS["coder"]})
        assert login.status_code == 200
        return client.get(f"/api/v1/lessons/{lesson_id}/events").json()


def test_keyboard_coding_locked_to_the_frame_and_offline(server, browser, coded_lesson,
                                                         test_video) -> None:
    frames = test_video[1]
    context, page = _open_coding_page(browser, server.url, coded_lesson)
    try:
        before = {e["client_id"] for e in _server_events(server.url, coded_lesson)}
        coded: list[tuple[int, str]] = []  # (frame on screen, subtype)
        for frame, keys, subtype in ((7, "11", "praise"), (12, "24", "correction"),
                                     (31, "G7", "instruction")):
            _step_to(page, frame)
            assert _frame_on_screen(page, frames) == frame
            for key in keys:
                page.keyboard.press(key)
            coded.append((frame, subtype))
        # play, pause anywhere, and code what is on screen
        page.keyboard.press("-")
        page.keyboard.press("Space")
        page.wait_for_timeout(400)
        page.keyboard.press("Space")
        page.wait_for_selector("body[data-paused='true']")
        page.wait_for_timeout(200)
        shown = _shown_frame(page)
        assert _frame_on_screen(page, frames) == shown
        page.keyboard.press("C")
        page.keyboard.press("8")
        coded.append((shown, "question"))
        # undo the last one, redo it: still one event on the server
        page.keyboard.press("Control+z")
        page.keyboard.press("Control+y")
        _wait_all_saved(page)
        assert page.locator("[data-events] .pending").count() == 0
        assert page.locator("[data-events] .saved").count() == len(coded)
        if os.environ.get("CLASSDYAD_SCREENSHOTS"):
            folder = Path(os.environ["CLASSDYAD_SCREENSHOTS"])
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "coding-page.png"), full_page=True)
        # offline in the middle of the lesson: coding goes on, the events wait
        context.set_offline(True)
        for frame, keys, subtype in ((60, "35", "disapproval"), (64, "C9", "procedural"),
                                     (70, "12", "encouragement")):
            _step_to(page, frame)
            for key in keys:
                page.keyboard.press(key)
            coded.append((frame, subtype))
        page.wait_for_selector("body:not([data-pending='0'])")
        context.set_offline(False)
        _wait_all_saved(page)
        events = [e for e in _server_events(server.url, coded_lesson)
                  if e["client_id"] not in before]
        assert sorted((e["frame"], e["subtype"]) for e in events) == sorted(coded)
        assert len({e["client_id"] for e in events}) == len(coded)
        for event in events:
            assert event["video_seconds"] == pytest.approx(event["frame"] / FPS, abs=0.5 / FPS)
        with server.engine.connect() as connection:
            creations = connection.execute(
                sa.select(EventRevision.client_id, sa.func.count())
                .where(EventRevision.client_id.in_([e["client_id"] for e in events]),
                       EventRevision.revision == 1)
                .group_by(EventRevision.client_id)).all()
        assert sorted(n for _, n in creations) == [1] * len(coded)
        assert not page.errors, page.errors  # type: ignore[attr-defined]
    finally:
        context.close()


def _serve(database: str, port: int, media: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", "from classdyad.cli.app import main; main()", "serve", database,
         "--port", str(port), "--media", str(media)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the server did not start")


def test_kill_9_of_the_server_mid_coding_loses_nothing(server, browser, coded_lesson,
                                                       tmp_path) -> None:
    database = str(server.engine.url.database) if server.engine.url.get_backend_name() == \
        "sqlite" else server.engine.url.render_as_string(hide_password=False)
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    process = _serve(database, port, server.media)
    context = None
    try:
        context, page = _open_coding_page(browser, url, coded_lesson)
        before = {e["client_id"] for e in _server_events(url, coded_lesson)}
        coded = []
        for frame, keys in ((20, "11"), (25, "23")):
            _step_to(page, frame)
            for key in keys:
                page.keyboard.press(key)
            coded.append(frame)
        _wait_all_saved(page)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        for frame, keys in ((30, "34"), (35, "G1"), (40, "C7")):
            _step_to(page, frame)
            for key in keys:
                page.keyboard.press(key)
            coded.append(frame)
        page.wait_for_selector("body[data-pending='3']")
        process = _serve(database, port, server.media)
        _wait_all_saved(page)
        events = [e for e in _server_events(url, coded_lesson) if e["client_id"] not in before]
        assert sorted(e["frame"] for e in events) == sorted(coded)
        assert len({e["client_id"] for e in events}) == len(coded)
        # a reload shows every event, saved
        page.reload()
        page.wait_for_selector("body[data-coding='ready']")
        for frame in coded:
            assert page.locator("[data-events] li", has_text=f"frame {frame} ").count() >= 1
        assert not page.errors, page.errors  # type: ignore[attr-defined]
    finally:
        if context is not None:
            context.close()
        process.kill()
        process.wait(timeout=30)
