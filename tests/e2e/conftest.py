"""Whole-stack fixtures: run the vertical slice once per module and share what it produced."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sensorhub.cli.dashboard import dashboard_command, dashboard_environment

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http_ok(url: str, timeout_s: float) -> None:
    """Poll ``url`` until it answers 200."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s: {last}")


@contextlib.contextmanager
def _serve_dashboard(db_url: str, log_path: Path) -> Iterator[str]:
    """Serve the real dashboard (streamlit run) on a free port; yield its URL."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            dashboard_command(port=port),
            env=dashboard_environment(db_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_http_ok(f"{url}_stcore/health", 60)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def port() -> int:
    """A free TCP port on localhost."""
    return free_port()


@pytest.fixture
def serve_dashboard() -> object:
    """``with serve_dashboard(db_url, log_path) as url:`` serves the real dashboard."""
    return _serve_dashboard


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (no downloaded browser).

    Function-scoped on purpose: Playwright's sync API marks its own event loop as running in
    this thread while it is open, which would break every later ``asyncio.run``.
    """
    if CHROMIUM is None:
        pytest.fail(
            "chromium is not installed: run `make sysdeps` (scripts/install-system-deps.sh)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
