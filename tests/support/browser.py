"""Driving the dashboard in a real browser as a person does."""

from __future__ import annotations

from typing import Any


def browser_login(page: Any, url: str, username: str, password: str) -> None:
    """Open ``url`` and log in through the dashboard's form."""
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
