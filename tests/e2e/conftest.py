"""A real Etude server (daphne, fresh database, demo content) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTIFACTS, ROOT
from webapp.practice.loadserver import drop_database, free_port, fresh_database_url

CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def etude_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as `make run` serves it, on a free port, with the demo course seeded."""
    tmp = tmp_path_factory.mktemp("e2e-server")
    database_url = fresh_database_url(tmp, "etude_e2e")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ETUDE_VAR_DIR": str(tmp),
        "ETUDE_CHANNEL_PREFIX": f"etude-e2e-{uuid.uuid4().hex[:6]}",
        "DJANGO_DEBUG": "1",
    }
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    log = (tmp / "daphne.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail(f"daphne did not start: {(tmp / 'daphne.log').read_text()}")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)
    log.close()
    (ARTIFACTS / "e2e-daphne.log").write_text((tmp / "daphne.log").read_text())
    drop_database(database_url)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make system-deps installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    return CHROMIUM


@contextmanager
def browser_page(chromium_path: Path, *, microphone_wav: Path | None = None, height: int = 900) -> Iterator[Any]:
    """A page of headless Chromium (its fake microphone playing ``microphone_wav``, looped). The page's
    ``errors`` attribute lists the JavaScript errors it raised."""
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_FLAGS, *([f"--use-file-for-fake-audio-capture={microphone_wav}"] if microphone_wav else [])]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), headless=True, args=args)
        page = browser.new_page(viewport={"width": 1200, "height": height})
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        try:
            yield page
        finally:
            browser.close()


def log_in(page, server: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(f"{server}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def open_demo_course(page) -> None:  # type: ignore[no-untyped-def]
    """From the course list, the demo course's own link (its title also appears beside its assignments)."""
    page.get_by_role("link", name="Etude demo: folk tunes and a chorale", exact=True).click()


def log_in_as_learner(page, server: str, lesson: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Log in as the demo learner; with ``lesson``, open that lesson of the demo course."""
    log_in(page, server, "learner", "practise-etude")
    if lesson is not None:
        open_demo_course(page)
        page.locator(".lesson-list a", has_text=lesson).first.click()  # not an assignment of that lesson
        # lesson.js sets "idle" once its modules have loaded and its handlers are attached; a click before
        # that is lost (the cause of the rare "never reached 'listening'" failures).
        page.wait_for_function("document.body.dataset.state === 'idle'", timeout=30_000)
