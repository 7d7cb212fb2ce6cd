"""The web view in a real browser: headless Chromium, 375 CSS pixels wide, as on a phone.

It logs in, sees the rates, reports weakness at a site without a sensor and sees the warning
appear within seconds, is refused another person's alert, and every page it visits fits the
phone's width (nothing overflows sideways). A screenshot of the phone's page is saved.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from support.browser import (
    PHONE_WIDTH,
    chromium_missing,
    full_page_screenshot,
    phone_browser,
    scroll_width,
)
from support.services import MosquittoBroker, services_required
from support.web_env import BOB_NOTE, PASSWORDS, web_env

#: A folder the screenshots are copied to (docs/images/ for the README), if set.
SCREENSHOTS_ENV = "TWITCHWATCH_SCREENSHOTS"
WAIT_S = 10.0


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], bool], what: str) -> float:
    """Seconds until ``condition`` held (AssertionError naming ``what`` after WAIT_S)."""
    start = time.monotonic()
    while not condition(driver):
        if time.monotonic() - start > WAIT_S:
            raise AssertionError(f"{what}: not within {WAIT_S:g} s ({driver.current_url})")
        time.sleep(0.05)
    return time.monotonic() - start


def browse(url: str, shots: Path) -> dict[str, float]:
    """The person's visit, in the browser (blocking: run it in a thread)."""
    timings: dict[str, float] = {}
    with phone_browser() as driver:
        widths: dict[str, int] = {}

        def visit(path: str) -> None:
            driver.get(url + path)
            widths[path] = scroll_width(driver)

        visit("")
        assert driver.current_url.endswith("/login")
        driver.find_element(By.NAME, "username").send_keys("alice")
        driver.find_element(By.NAME, "password").send_keys(PASSWORDS["alice"])
        driver.find_element(By.CSS_SELECTOR, "form button.primary").click()
        wait_for(driver, lambda d: not d.current_url.endswith("/login"), "logged in")

        visit("weeks")
        headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "article.site h2")]
        assert headings == ["left calf", "right forearm"]
        figures = driver.find_element(By.CSS_SELECTOR, "article.site .figures").text
        assert "per min" in figures and "measured days" in figures
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar.nodata")
        driver.save_screenshot(str(shots / "web-phone-weeks.png"))  # the phone's screen

        visit("")
        assert "Reported weakness or wasting" not in driver.page_source
        Select(driver.find_element(By.NAME, "site")).select_by_value("right_hand")
        start = time.monotonic()
        driver.find_element(By.CSS_SELECTOR, 'button[name="kind"][value="weakness"]').click()
        wait_for(
            driver,
            lambda d: "Reported weakness or wasting" in d.page_source,
            "the weakness warning on the page",
        )
        timings["report_to_warning_s"] = time.monotonic() - start
        warning = driver.find_element(By.CSS_SELECTOR, "article.alert.sev-warning .message").text
        assert "Please consult a doctor." in driver.page_source and warning
        widths["(after the report)"] = scroll_width(driver)
        driver.save_screenshot(str(shots / "web-phone-today.png"))
        full_page_screenshot(driver, shots / "web-phone-today-full.png")

        visit("alerts/red_flag/swallowing")  # bob's alert, not alice's
        assert "No such alert." in driver.page_source and BOB_NOTE not in driver.page_source
        for path in ("alerts", "reports", "doctor", "profile"):
            visit(path)
        overflowing = {path: w for path, w in widths.items() if w > PHONE_WIDTH}
        assert not overflowing, f"wider than the phone: {overflowing}"
    return timings


@pytest.mark.skipif(
    chromium_missing() is not None and not services_required(), reason=str(chromium_missing())
)
@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_a_person_on_a_phone(mosquitto_broker: MosquittoBroker, tmp_path: Path) -> None:
    if (missing := chromium_missing()) is not None:
        pytest.fail(missing, pytrace=False)
    shots = tmp_path / "shots"
    await asyncio.to_thread(shots.mkdir)
    async with web_env(mosquitto_broker.url, tmp_path / "env") as env:
        timings = await asyncio.to_thread(browse, env.url, shots)
    assert timings["report_to_warning_s"] < WAIT_S
    for name in ("web-phone-today.png", "web-phone-weeks.png", "web-phone-today-full.png"):
        png = await asyncio.to_thread((shots / name).read_bytes)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(png[16:20], "big") == PHONE_WIDTH  # the IHDR's width
        if folder := os.environ.get(SCREENSHOTS_ENV):
            await asyncio.to_thread((Path(folder) / name).write_bytes, png)
