"""Debian's chromium driven by Selenium through Debian's chromedriver, headless, with a fresh
profile; and a real terminal on its own event loop thread, so that a browser test can click in
the console and then let the terminal talk to the station.

Screenshots go to the test's folder; with ``GRIDPOS_CONSOLE_SHOTS=DIR`` they are also written to
DIR (``docs/console`` is refreshed that way).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,860",
    "--lang=zh-CN",
)


def browser(folder: Path):
    """A headless chromium; skips, saying why, when the Debian packages are not installed."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium and chromium-driver (Debian packages) are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = folder / "chromium-profile"
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    downloads = folder / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    return driver


def shot(driver, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    extra = os.environ.get("GRIDPOS_CONSOLE_SHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / path.name)
    return path


def log_in(driver, url: str, org: str, account: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(f"{url}/login")
    Select(driver.find_element(By.ID, "org")).select_by_value(org)
    driver.find_element(By.ID, "account").send_keys(account)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait(driver, driver.find_element(By.ID, "submit"))


def click_and_wait(driver, element, timeout_s: float = 15) -> None:
    """Click something that loads a page, and wait until the new page has loaded (a click
    returns before the browser has navigated): the old page's window carries a mark the new
    one does not."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.__old_page = true;")
    element.click()
    WebDriverWait(driver, timeout_s).until(
        lambda d: d.execute_script(
            "return window.__old_page === undefined && document.readyState === 'complete';"
        )
    )


class LoopThread:
    """An event loop in a thread: the terminal's coroutines run there, called from the test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine, timeout_s: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def do(self, function, *args):
        """A plain call made in the loop's thread (the journal's SQLite belongs to it)."""

        async def inside():
            return function(*args)

        return self.call(inside())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
