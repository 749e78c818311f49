"""Browser fixtures: Playwright driving Debian's chromium (never a downloaded browser) against `live_server`.

Outside CI a missing /usr/bin/chromium skips these tests with the reason; under CI=true it is an error
(.ci/run installs chromium first)."""

import os
from pathlib import Path

import pytest

from webapp.settings.services import in_ci

CHROMIUM = Path(os.environ.get("RESONANCE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOT_DIR = Path(os.environ.get("RESONANCE_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "var/screenshots"))


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (browsers are never downloaded)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test thread for as long as it is started, and
    # Django refuses ORM calls beside a running loop. The calls made here (tests, fixtures, the database
    # flush after each test) are still plain synchronous calls, so the guard is lifted for exactly that span.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """Opens pages in fresh browser contexts (separate cookies, like separate people): `new_page(viewport=...)`."""
    contexts = []

    def make(viewport: dict | None = None):
        context = browser.new_context(viewport=viewport or DESKTOP, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def screenshot(page, name: str) -> Path:
    """Saves what the screen shows as <SCREENSHOT_DIR>/resonance-<name>.png and the whole page as
    resonance-<name>-full.png (where sticky bars show mid-page: that is the capture, not the layout)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"resonance-{name}.png"
    page.screenshot(path=str(path))
    page.screenshot(path=str(SCREENSHOT_DIR / f"resonance-{name}-full.png"), full_page=True)
    return path


def log_in(page, *, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
