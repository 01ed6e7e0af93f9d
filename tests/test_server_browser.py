"""The memory page in a real browser: headless Chromium, driven by Selenium.

Debian's ``chromium`` and ``chromium-driver`` (``apt-get install chromium chromium-driver``; CI installs
them when missing). Set ``LANGMEM_AGNO_SCREENSHOT=docs/server.png`` to save the README's screenshot.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from langmem_agno import SQLiteMemoryStore
from langmem_agno.server import BackgroundServer, create_app
from langmem_agno.server.security import TOKEN_ENV

pytestmark = pytest.mark.slow

XSS = ["<img src=x onerror=alert(1)>", "Ends a script: </script><script>alert(2)</script>"]


def _binary(name: str, *fallbacks: str) -> str:
    for candidate in (name, *fallbacks):
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError(f"{name} not found: apt-get install chromium chromium-driver")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    # The driver is named explicitly, so Selenium never downloads one.
    driver = webdriver.Chrome(service=Service(_binary("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SQLiteMemoryStore]:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    made = SQLiteMemoryStore(tmp_path / "agno.db")
    made.add(
        "Sarah prefers email over phone calls", user_id="sarah", topics=["contact"], agent_id="support-bot"
    )
    made.add("Sarah drinks her coffee black", user_id="sarah", topics=["food"], agent_id="barista")
    made.add("Sarah works at Acme as a data engineer", user_id="sarah", topics=["work"], team_id="hr-team")
    made.add("Sarah's coffee order is a flat white on Fridays", user_id="sarah", topics=["food"])
    for text in XSS:
        made.add(text, user_id="sarah", topics=["security"])
    made.add("Omar is learning Rust", user_id="omar", topics=["learning"])
    made.add("Omar lives in Lisbon", user_id="omar", topics=["location"])
    yield made
    made.close()


def _wait(driver: WebDriver, check: Any, timeout: float = 10.0) -> Any:
    # The page re-renders its tables: an element found a moment ago may be gone, so look again.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: check()
    )


def _rows(driver: WebDriver, table: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")


def _texts(driver: WebDriver) -> list[str]:
    # Read in one script call, so a re-render cannot happen half-way through.
    texts: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('#memories tbody td.memory-text')].map((e) => e.textContent)"
    )
    return texts


def _row_of(driver: WebDriver, text: str) -> WebElement:
    for row in _rows(driver, "memories"):
        cells = row.find_elements(By.CSS_SELECTOR, "td.memory-text")
        if cells and cells[0].text == text:
            return row
    raise AssertionError(f"no row shows {text!r}")


def _no_dialog(driver: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert.text


def test_the_page_lists_searches_adds_edits_deletes_and_escapes(
    browser: WebDriver, store: SQLiteMemoryStore
) -> None:
    with BackgroundServer(create_app(store)) as server:
        browser.get(server.url + "/")
        _wait(browser, lambda: len(_rows(browser, "users")) == 2)
        users = [r.text.split("\n")[0].split(" ")[0] for r in _rows(browser, "users")]
        assert sorted(users) == ["omar", "sarah"]
        sarah = next(r for r in _rows(browser, "users") if r.get_attribute("data-user-id") == "sarah")
        assert " 6 " in f" {sarah.text.replace(chr(10), ' ')} "

        sarah.click()
        _wait(browser, lambda: len(_texts(browser)) == 6)
        # The hostile memories are text: no element was made from them, no handler ran.
        for text in XSS:
            assert text in _texts(browser)
        assert browser.find_elements(By.CSS_SELECTOR, "#memories img, #memories tbody script") == []
        _no_dialog(browser)
        row = _row_of(browser, "Sarah prefers email over phone calls")
        assert "support-bot" in row.text and "contact" in row.text

        search = browser.find_element(By.ID, "search")
        search.send_keys("coffee")
        _wait(browser, lambda: len(_texts(browser)) == 2)
        assert all("coffee" in t for t in _texts(browser))
        # clear() fires no input event: empty the box as a user's backspaces would, event included.
        empty = "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input'))"
        browser.execute_script(empty, search)
        _wait(browser, lambda: len(_texts(browser)) == 6)

        browser.find_element(By.ID, "add-text").send_keys("Sarah is allergic to peanuts")
        browser.find_element(By.ID, "add-topics").send_keys("health, food")
        browser.find_element(By.ID, "add-agent").send_keys("nurse-bot")
        browser.find_element(By.ID, "add-button").click()
        _wait(browser, lambda: "Sarah is allergic to peanuts" in _texts(browser))
        added = next(
            m for m in store.list_memories(user_id="sarah") if m.memory == "Sarah is allergic to peanuts"
        )
        assert (added.topics, added.agent_id) == (["health", "food"], "nurse-bot")

        _row_of(browser, "Sarah is allergic to peanuts").find_element(By.CSS_SELECTOR, "button.edit").click()
        editor = _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "textarea.edit-text"))[0]
        editor.clear()
        editor.send_keys("Sarah is allergic to peanuts and tree nuts")
        browser.find_element(By.CSS_SELECTOR, "button.save").click()
        _wait(browser, lambda: "Sarah is allergic to peanuts and tree nuts" in _texts(browser))
        stored = store.get(added.memory_id, user_id="sarah")
        assert stored is not None and stored.memory == "Sarah is allergic to peanuts and tree nuts"

        topic = browser.find_element(By.ID, "topic")
        _wait(
            browser,
            lambda: (
                "health" in [o.get_attribute("value") for o in topic.find_elements(By.TAG_NAME, "option")]
            ),
        )
        topic.find_element(By.CSS_SELECTOR, "option[value='food']").click()
        _wait(browser, lambda: len(_texts(browser)) == 3)
        topic.find_element(By.CSS_SELECTOR, "option[value='']").click()
        _wait(browser, lambda: len(_texts(browser)) == 7)

        if os.environ.get("LANGMEM_AGNO_SCREENSHOT"):
            browser.save_screenshot(os.environ["LANGMEM_AGNO_SCREENSHOT"])

        _row_of(browser, "Sarah is allergic to peanuts and tree nuts").find_element(
            By.CSS_SELECTOR, "button.delete"
        ).click()
        dialog = browser.find_element(By.ID, "confirm")
        _wait(browser, dialog.is_displayed)
        assert (
            browser.find_element(By.ID, "confirm-text").text == "Sarah is allergic to peanuts and tree nuts"
        )
        browser.find_element(By.ID, "confirm-no").click()  # cancelling keeps it
        assert store.get(added.memory_id, user_id="sarah") is not None
        _row_of(browser, "Sarah is allergic to peanuts and tree nuts").find_element(
            By.CSS_SELECTOR, "button.delete"
        ).click()
        _wait(browser, dialog.is_displayed)
        browser.find_element(By.ID, "confirm-yes").click()
        _wait(browser, lambda: "Sarah is allergic to peanuts and tree nuts" not in _texts(browser))
        assert store.get(added.memory_id, user_id="sarah") is None
        _no_dialog(browser)
        # No script error on the way: the page's log holds nothing at level SEVERE.
        severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []


def test_sorting_and_pages(browser: WebDriver, store: SQLiteMemoryStore) -> None:
    for i in range(25):
        store.add(f"Omar note {i:02d}", user_id="omar")
    with BackgroundServer(create_app(store)) as server:
        browser.get(server.url + "/")
        _wait(browser, lambda: len(_rows(browser, "users")) == 2)
        next(r for r in _rows(browser, "users") if r.get_attribute("data-user-id") == "omar").click()
        _wait(browser, lambda: len(_texts(browser)) == 20)
        info = browser.find_element(By.ID, "page-info")
        assert info.text == "page 1 of 2 · 27 memories"
        browser.find_element(By.ID, "next").click()
        _wait(browser, lambda: len(_texts(browser)) == 7)
        assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
        browser.find_element(By.CSS_SELECTOR, "#page-size option[value='10']").click()
        _wait(browser, lambda: info.text == "page 1 of 3 · 27 memories")
        newest_first = _texts(browser)
        browser.find_element(By.CSS_SELECTOR, "#sort option[value='asc']").click()
        _wait(browser, lambda: _texts(browser) != newest_first)
        assert len(_texts(browser)) == 10


def test_the_page_asks_for_the_token(browser: WebDriver, store: SQLiteMemoryStore) -> None:
    with BackgroundServer(create_app(store, token="page-token")) as server:
        browser.get(server.url + "/")
        box = browser.find_element(By.ID, "token-box")
        _wait(browser, box.is_displayed)
        assert "token" in browser.find_element(By.ID, "status").text
        browser.find_element(By.ID, "token").send_keys("page-token")
        browser.find_element(By.ID, "token-save").click()
        _wait(browser, lambda: len(_rows(browser, "users")) == 2)
        assert not box.is_displayed()
