"""Debian's headless Chromium, driven by Selenium through chromium-driver, sized as a phone.

For the web view's browser test and its screenshot. Nothing is downloaded: the browser and the
driver are the system's (``apt install chromium chromium-driver``; .ci/run installs them), and
each run gets a fresh profile folder, removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

#: Headless, no sandbox (CI runs as root), nothing fetched from the network on its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
#: An iPhone SE / 12 mini class screen, in CSS pixels.
PHONE_WIDTH, PHONE_HEIGHT = 375, 812


def chromium_missing() -> str | None:
    """None when both chromium and chromedriver are on PATH, else what is missing."""
    missing = [tool for tool in ("chromium", "chromedriver") if shutil.which(tool) is None]
    if missing:
        return f"needs {' and '.join(missing)} (Debian: apt install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def phone_browser(width: int = PHONE_WIDTH, height: int = PHONE_HEIGHT) -> Iterator[WebDriver]:
    """A headless Chromium whose page is ``width`` CSS pixels wide, as on a phone."""
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        raise FileNotFoundError(chromium_missing())
    # Selenium must not look for (or report on) browsers and drivers of its own.
    os.environ.setdefault("SE_AVOID_STATS", "true")
    profile = tempfile.mkdtemp(prefix="twitchwatch-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        set_viewport(driver, width, height)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver: WebDriver, width: int, height: int) -> None:
    """Emulate a phone's screen (headless windows have a minimum width of their own)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )


def scroll_width(driver: WebDriver) -> int:
    """How wide the page is laid out: more than the screen means it overflows sideways."""
    return int(driver.execute_script("return document.scrollingElement.scrollWidth"))


def full_page_screenshot(driver: WebDriver, path: Path, width: int = PHONE_WIDTH) -> Path:
    """The whole page, ``width`` wide, as PNG (the viewport grows to the page's height)."""
    height = int(driver.execute_script("return document.scrollingElement.scrollHeight"))
    set_viewport(driver, width, height)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    finally:
        set_viewport(driver, width, PHONE_HEIGHT)
    return path
