"""The chat page end to end in headless Chromium (Debian's `chromium`, driven by Playwright).

Skipped, with the reason, when Playwright or the browser is missing. The server is a real uvicorn on a
loopback port, in a thread, serving the app with the tiny manager on the test Redis.
"""

from __future__ import annotations

import importlib.util
import shutil
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.deps import get_manager
from api.main import create_app
from recsys.settings import Settings
from tests.redis_fixtures import free_tcp_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="Python package 'playwright' is not installed (pip install playwright; no browser download)",
    ),
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium executable on PATH (Debian: apt-get install -y chromium)"
    ),
]


@pytest.fixture
def live_url(api_manager, redis_client) -> Iterator[str]:
    app = create_app(Settings(rate_limit=0, api_warm_up=False))
    app.dependency_overrides[get_manager] = lambda: api_manager
    port = free_tcp_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def test_chat_page_conversation_feedback_and_profile(live_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(live_url + "/")
            user_id = page.input_value("#user-id")
            assert user_id.startswith("web-")  # generated and kept in localStorage

            page.fill("#message", "I loved The Matrix")
            page.click("#send")
            recs = page.locator("#transcript li.system .rec")
            expect(recs).to_have_count(5, timeout=15_000)
            expect(page.locator("#transcript li.user")).to_have_text(["I loved The Matrix"])
            expect(page.locator("#transcript li.system")).to_have_count(2)  # the greeting, the reply
            reply = page.locator("#transcript li.system .text").last
            expect(reply).to_contain_text("Blade Runner")
            first = recs.first
            expect(first.locator(".title")).to_have_text("Blade Runner (1982)")
            expect(first.locator(".why")).not_to_be_empty()

            first.locator("button.dislike").click()
            expect(first.locator("button.dislike")).to_have_attribute("aria-pressed", "true")
            expect(page.locator("#profile-facts")).to_contain_text("Blade Runner (1982)")

            page.fill("#profile-edit", "Sci-fi with ideas, never horror.")
            page.click("#profile-save")
            expect(page.locator("#profile-text")).to_have_text("Sci-fi with ideas, never horror.")
            assert not errors, errors
        finally:
            browser.close()

    profile = httpx.get(f"{live_url}/v1/users/{user_id}/profile").json()
    assert profile["profile_text"] == "Sci-fi with ideas, never horror."
    assert [i["title"] for i in profile["liked_items"]] == ["The Matrix"]
    assert [i["title"] for i in profile["disliked_items"]] == ["Blade Runner"]
