"""The report as a person sees it: rendered by headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium), every figure loaded, tables present, names escaped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from report import build_report
from tests.report.test_report_build import EVIL, _final_rows, _trial_rows

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")


def _chrome():
    """Headless Chromium with a 1280-pixel-wide window, as a reader's laptop shows a page."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,4000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The report of a small results folder, open in headless Chromium."""
    folder = tmp_path_factory.mktemp("browser")
    pd.DataFrame(_trial_rows()).to_csv(folder / "trials.csv", index=False)
    pd.DataFrame(_final_rows()).to_csv(folder / "final.csv", index=False)
    (folder / "run.json").write_text(json.dumps({"suite": "quickstart", "size_scale": 0.1}))
    build_report(folder)
    driver = _chrome()
    driver.get((folder / "report" / "report.html").as_uri())
    yield driver, folder
    driver.quit()


def test_every_figure_loads(page):
    driver, _ = page
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
    assert len(images) >= 2
    assert all(done and width > 100 for done, width in images), images


def test_the_tables_and_sections_are_there(page):
    driver, _ = page
    headings = driver.execute_script(
        "return Array.from(document.querySelectorAll('h2')).map(h => h.textContent);")
    assert "1. Guideline table vs measurement" in headings
    assert "5. Data size x domain similarity, and negative transfer" in headings
    rows = driver.execute_script("return document.querySelectorAll('table tr').length;")
    assert driver.execute_script("return document.querySelectorAll('table').length;") >= 4
    assert rows > 20


def test_user_names_show_as_text_and_run_nothing(page):
    driver, _ = page
    assert driver.execute_script("return document.querySelectorAll('script').length;") == 0
    assert EVIL in driver.execute_script("return document.body.innerText;")


def test_a_screenshot_is_saved(page):
    driver, folder = page
    shot = folder / "report" / "screenshot.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


COMMITTED = sorted(p.parent.parent for p in
                   (Path(__file__).resolve().parents[2] / "results").glob("*/report/report.html"))
"""The committed reports (the guideline suite's has ten strategies)."""
MIN_SCALE = 0.75
"""The least a figure may be shrunk on the page: its 8-point labels (12 px at 110 dpi) then
still show at 9 px or more."""


@pytest.fixture(scope="module")
def chrome():
    driver = _chrome()
    yield driver
    driver.quit()


@pytest.mark.parametrize("folder", COMMITTED, ids=lambda p: p.name)
def test_every_figure_of_a_committed_report_is_readable_as_the_page_shows_it(chrome, folder):
    from io import BytesIO

    from PIL import Image

    chrome.get((folder / "report" / "report.html").as_uri())
    sizes = chrome.execute_script(
        "return Array.from(document.images).map(i => [i.alt.slice(0, 40), i.naturalWidth, "
        "i.getBoundingClientRect().width]);")
    assert len(sizes) >= 8
    small = [(alt, round(shown / natural, 2)) for alt, natural, shown in sizes
             if shown < MIN_SCALE * natural]
    assert not small, f"figures shrunk below {MIN_SCALE} of their size: {small}"
    for element in chrome.find_elements("tag name", "img"):
        chrome.execute_script("arguments[0].scrollIntoView();", element)
        shot = Image.open(BytesIO(element.screenshot_as_png)).convert("RGB")
        colours = len(set(shot.resize((200, 100)).getdata()))
        assert colours > 20, f"{element.get_attribute('alt')[:40]}: a blank figure"
