"""The report as a person sees it: rendered by headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium), every figure loaded, tables present, names escaped."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from report import build_report
from tests.report.test_report_build import EVIL, _final_rows, _trial_rows

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The report of a small results folder, open in headless Chromium."""
    folder = tmp_path_factory.mktemp("browser")
    pd.DataFrame(_trial_rows()).to_csv(folder / "trials.csv", index=False)
    pd.DataFrame(_final_rows()).to_csv(folder / "final.csv", index=False)
    (folder / "run.json").write_text(json.dumps({"suite": "quickstart", "size_scale": 0.1}))
    build_report(folder)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,4000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
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
