"""A lesson filmed in two parts: the coder picks the video file; times stay on the lesson's clock.

Part 1 is the 6-s test video of :mod:`test_coding_browser`; part 2 is a 4-s video of another
colour. The coder codes an event in each part from the keyboard; the server stores part 2's
event at part 1's duration plus its time in part 2, with the frame counted in part 2's file and
that file's id. Selecting part 1's event in the list puts part 1 back on screen at its frame.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from .conftest import CHROMIUM
from .test_coding_browser import (  # noqa: F401 (fixtures)
    FFMPEG,
    FPS,
    HEIGHT,
    WIDTH,
    _frame_on_screen,
    _open_coding_page,
    _screen_pixels,
    _server_events,
    _step_to,
    _wait_all_saved,
    browser,
    burned_in_video,
    test_video,
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or FFMPEG is None,
    reason="needs Debian's chromium and ffmpeg (apt-get install chromium ffmpeg)")


@pytest.fixture(scope="module")
def second_part(tmp_path_factory) -> tuple:
    """A 4-s VP8 video of another colour with its frame number burned in, and its frames."""
    return burned_in_video(tmp_path_factory.mktemp("part2") / "part2.webm", "0x806040", 4)


@pytest.fixture(scope="module")
def two_parts(server, test_video, second_part) -> list[dict]:  # noqa: F811
    """The coder's lesson with both parts attached, in order; their records."""
    shutil.copy(test_video[0], server.media / "part1.webm")
    shutil.copy(second_part[0], server.media / "part2.webm")
    researcher = server.client("researcher")
    for name in ("part1.webm", "part2.webm"):
        response = researcher.post(f"/api/v1/lessons/{server.coder_lesson}/videos",
                                   json={"path": name})
        assert response.status_code == 201, response.text
    videos = response.json()["videos"]
    assert [v["position"] for v in videos] == [1, 2]
    return videos


def _part_on_screen(page, first: np.ndarray, second: np.ndarray) -> int:
    pixels = _screen_pixels(page)
    return 1 + int(np.abs(second - pixels).mean(axis=(1, 2)).min()
                   < np.abs(first - pixels).mean(axis=(1, 2)).min())


def test_coding_a_lesson_filmed_in_two_parts(server, browser, two_parts, test_video,  # noqa: F811
                                             second_part) -> None:
    first, second = two_parts
    lesson_id = server.coder_lesson
    context, page = _open_coding_page(browser, server.url, lesson_id)
    try:
        assert page.locator("select[data-video-file] option").count() == 2
        _step_to(page, 20)
        page.keyboard.press("1")
        page.keyboard.press("1")  # praise, in part 1 at frame 20
        page.select_option("select[data-video-file]", str(second["id"]))
        page.wait_for_selector("body[data-part='2'][data-video='loaded']")
        _step_to(page, 30)
        assert _part_on_screen(page, test_video[1], second_part[1]) == 2
        assert _frame_on_screen(page, second_part[1]) == 30
        shown = float(page.text_content("[data-time]"))
        assert shown == pytest.approx(first["duration_seconds"] + 30 / FPS, abs=1 / FPS)
        page.keyboard.press("G")
        page.keyboard.press("4")  # correction, in part 2 at frame 30
        _wait_all_saved(page)
        # the event of part 1, selected in the list, brings part 1 back at its frame
        page.click("[data-events] li:first-child")
        page.wait_for_selector("body[data-part='1'][data-video='loaded']")
        page.wait_for_selector("[data-frame][data-value='20']")
        assert _part_on_screen(page, test_video[1], second_part[1]) == 1
    finally:
        context.close()
    events = sorted(_server_events(server.url, lesson_id), key=lambda e: e["video_seconds"])
    assert [(e["subtype"], e["frame"], e["video_file"]) for e in events] == [
        ("praise", 20, first["id"]), ("correction", 30, second["id"])]
    assert events[0]["video_seconds"] == pytest.approx(20 / FPS, abs=0.5 / FPS)
    assert events[1]["video_seconds"] == pytest.approx(first["duration_seconds"] + 30 / FPS,
                                                       abs=0.5 / FPS)


def test_an_event_names_only_a_video_file_of_its_lesson(server, two_parts) -> None:
    from .test_events import event_body

    coder = server.client("coder")
    good = coder.put("/api/v1/events/two-parts-good",
                     json=event_body(server, video_file=two_parts[1]["id"]))
    assert good.status_code == 201 and good.json()["video_file"] == two_parts[1]["id"]
    bad = coder.put("/api/v1/events/two-parts-bad",
                    json=event_body(server, video_file=two_parts[1]["id"] + 1000))
    assert bad.status_code == 422 and "video file" in bad.json()["detail"]
