"""The teacher feedback page: self-contained, translated, and in a real browser (Chromium)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from classdyad.analysis.teacher_feedback_results import FIT_NOTES, GUIDANCE_MESSAGES
from classdyad.errors import OptionError
from classdyad.report.feedback import feedback_page
from classdyad.report.i18n import translations
from classdyad.simulate import SimulatedStudy
from classdyad.study.feedback import study_teacher_feedback

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium); the "
                             "browser check of the feedback page needs it")


@pytest.fixture(scope="module")
def result(small_study: SimulatedStudy):
    return study_teacher_feedback(small_study.tables, str(small_study.tables.teachers["code"]
                                                          .iloc[2]))[0]


@pytest.fixture(scope="module")
def pages(result, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("feedback_pages")
    return {language: feedback_page(result, language=language, study="replica").save(
        folder / f"feedback_{language}.html", json_path=folder / f"feedback_{language}.json")
        for language in ("en", "nl")}


def test_guidance_and_fit_notes_have_dutch_translations() -> None:
    dutch = translations("nl")
    for message in [*GUIDANCE_MESSAGES.values(), *FIT_NOTES.values()]:
        assert dutch.gettext(message) != message, message
        assert set(re.findall(r"%\(\w+\)s", dutch.gettext(message))) == set(
            re.findall(r"%\(\w+\)s", message))


def test_the_page_is_self_contained_with_inline_figures(pages: dict[str, Path]) -> None:
    for path in pages.values():
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["'](https?:|//)""", html)
        assert "<script" not in html and "@import" not in html
        assert html.count('<svg class="figure"') >= 3


def test_dutch_page_uses_dutch_words_and_decimal_commas(pages: dict[str, Path], result) -> None:
    html = pages["nl"].read_text(encoding="utf-8")
    assert "Wat opvalt" in html and "What stands out" not in html
    assert re.search(r"\d,\d\d \[\d,\d\d; \d,\d\d\]", html)
    english = pages["en"].read_text(encoding="utf-8")
    assert re.search(r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]", english)


def test_the_json_beside_the_page_holds_every_number_at_full_precision(
        pages: dict[str, Path], result) -> None:
    values = json.loads(pages["en"].with_suffix(".json").read_text(encoding="utf-8"))
    shrunken = [r["shrunken_rate"] for r in values["students"]]
    np.testing.assert_array_equal(shrunken, result.students["shrunken_rate"].to_numpy())


def test_unknown_language_lists_the_allowed_ones(result) -> None:
    with pytest.raises(OptionError, match="'en', 'nl'"):
        feedback_page(result, language="fr")  # type: ignore[arg-type]


def _chromium(arguments: list[str], page: Path, profile: Path) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *arguments,
               page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@needs_chromium
@pytest.mark.parametrize("language", ["en", "nl"])
def test_chromium_renders_the_page_without_errors_and_takes_a_screenshot(
        pages: dict[str, Path], tmp_path: Path, language: str) -> None:
    from PIL import Image

    page = pages[language]
    dom = _chromium(["--dump-dom"], page, tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line] == []
    assert 'id="guidance"' in dom.stdout and 'id="reading"' in dom.stdout
    shot = tmp_path / f"feedback_{language}.png"
    done = _chromium([f"--screenshot={shot}", "--window-size=1100,2400",
                      "--hide-scrollbars"], page, tmp_path / "profile-shot")
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1100, 2400)
        grey = np.asarray(image.convert("L"), dtype=float)
    # a rendered page: mostly white background with dark text and coloured figures
    assert grey.std() > 10
    assert (grey < 100).mean() > 0.005
