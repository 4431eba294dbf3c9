"""The web UI in a real browser: headless Chromium (Debian `chromium` + `chromium-driver`, installed by
scripts/setup) driven with Selenium through the query page and a project page.

Screenshots go to tests/artifacts/ (query-page.png, project-page.png, validation-page.png). The tests skip,
saying why, when Chromium or its driver is missing or YASGUI is not installed (run ./scripts/setup).
Chromium runs with the flags that work on a machine without outside network, and the tests check from
its network log that every request the pages made went to the service itself (no CDN).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import REPO, LiveServer, copy_store, seeded_store

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')"
)
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARTIFACTS = REPO / "tests" / "artifacts"
YASGUI = REPO / "web" / "node_modules" / "@zazuko" / "yasgui" / "build" / "yasgui.min.js"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
    "--lang=zh-CN",
)


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip(
            "Chromium or chromedriver not found: run ./scripts/setup --test as root "
            "(apt-get install chromium chromium-driver)"
        )
    return chromium, driver


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not YASGUI.is_file():
        pytest.skip("YASGUI is not installed in web/node_modules: run ./scripts/setup (needs npm)")
    folder = tmp_path_factory.mktemp("browser")
    store = copy_store(seeded_store(tmp_path_factory.getbasetemp()), folder / "store")
    with LiveServer(store, folder) as live:
        yield live


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, chromedriver = _browser()
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not download anything
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    except WebDriverException as err:
        pytest.skip(f"Chromium does not start here: {err.msg}")
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait_for(driver: Any, condition: Callable[[Any], Any], seconds: float = 30) -> Any:
    return WebDriverWait(driver, seconds, poll_frequency=0.2).until(condition)


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def only_local(urls: list[str], server: LiveServer) -> list[str]:
    """The URLs that went anywhere but the service (data: and blob: URLs stay in the page)."""
    return [u for u in urls if not u.startswith((server.url, "data:", "blob:", "about:"))]


def full_page_screenshot(driver: Any, path: Path) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(int(height) + 40, 800), 6000))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)


def test_query_page_runs_a_named_query_in_yasgui(browser: Any, server: LiveServer) -> None:
    browser.get_log("performance")  # start with an empty network log
    browser.get(server.url + "/query")
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".yasqe .CodeMirror"))
    names = [q["name"] for q in httpx.get(server.url + "/queries").json()["queries"]]
    buttons = browser.find_elements(By.CSS_SELECTOR, "button.example")
    assert [b.text for b in buttons] == names  # the named queries are the examples

    [forms_button] = [b for b in buttons if b.text == "forms"]
    forms_button.click()
    query = browser.execute_script("return window.kgYasgui.getTab().getQuery()")
    assert query.startswith("# name: forms")

    browser.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    try:
        wait_for(browser, lambda d: "课题研究" in d.find_element(By.CSS_SELECTOR, ".yasr").text, 60)
    except TimeoutException:
        browser.save_screenshot(str(ARTIFACTS / "query-page-failed.png"))
        raise
    results = browser.find_element(By.CSS_SELECTOR, ".yasr").text
    assert "self_evaluation" in results and "上海市城市管理行政执法局" in results
    rows = browser.find_elements(By.CSS_SELECTOR, ".yasr table tbody tr")
    assert len(rows) >= 10
    browser.save_screenshot(str(ARTIFACTS / "query-page.png"))
    outside = only_local(requested_urls(browser), server)
    assert outside == [], f"the query page fetched from other hosts: {outside}"


def test_project_page_shows_lineage_funds_indicators(browser: Any, server: LiveServer) -> None:
    browser.get(server.url + "/projects")
    link = wait_for(browser, lambda d: d.find_element(By.LINK_TEXT, "课题研究"))
    link.click()
    wait_for(browser, lambda d: d.find_element(By.ID, "project-name"))
    assert browser.find_element(By.ID, "project-name").text == "课题研究"
    lineage_rows = browser.find_elements(By.CSS_SELECTOR, "#lineage tbody tr")
    assert {row.find_elements(By.TAG_NAME, "td")[0].text for row in lineage_rows} == {"2023", "2024"}
    bars = browser.find_elements(By.CSS_SELECTOR, "#funds-chart svg rect")
    assert len(bars) >= 5
    chart = browser.find_element(By.CSS_SELECTOR, "#funds-chart svg")
    assert chart.size["width"] > 400 and chart.size["height"] > 200  # drawn, not collapsed
    funds = browser.find_element(By.ID, "funds-table").text
    assert "年度资金申请总额" in funds and "400,000.00" in funds
    indicators = browser.find_element(By.ID, "indicators").text
    assert "人员配置数量" in indicators and "10/10" in indicators
    assert browser.find_element(By.ID, "legal").is_displayed()
    assert browser.find_element(By.ID, "findings").is_displayed()
    full_page_screenshot(browser, ARTIFACTS / "project-page.png")

    # a source link opens the form with its source lines, the target line highlighted
    source_link = browser.find_element(By.CSS_SELECTOR, "#lineage tbody tr td:last-child a")
    source_link.click()
    wait_for(browser, lambda d: d.find_element(By.ID, "source"))
    target = browser.current_url.rsplit("#", 1)[1]
    assert browser.find_element(By.ID, target).is_displayed()


def test_validation_page_renders(browser: Any, server: LiveServer) -> None:
    browser.get(server.url + "/validation")
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1"))
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "校验结果" in text
    assert browser.find_elements(By.ID, "by-rule") or browser.find_elements(By.ID, "no-findings")
    full_page_screenshot(browser, ARTIFACTS / "validation-page.png")


def test_api_docs_render_from_local_assets(browser: Any, server: LiveServer) -> None:
    browser.get_log("performance")
    browser.get(server.url + "/docs")
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= 4)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "/sparql" in text and "/queries/{name}" in text
    outside = only_local(requested_urls(browser), server)
    assert outside == [], f"/docs fetched from other hosts: {outside}"

