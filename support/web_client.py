"""A person's browser without a browser: an aiohttp client that logs in, follows the forms' CSRF
tokens and keeps its cookies, for the web view's tests."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import aiohttp

from support.web_env import PASSWORDS

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_in(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


@contextlib.asynccontextmanager
async def browser(behind_tls: str | None = None) -> AsyncIterator[aiohttp.ClientSession]:
    """``behind_tls``: a URL the jar treats as HTTPS (a TLS proxy in front of it), so it sends
    Secure cookies there as a browser talking to the proxy would."""
    # unsafe: the cookie jar keeps cookies of an IP address host (127.0.0.1).
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=behind_tls or [])
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield session


async def log_in(
    session: aiohttp.ClientSession, url: str, user: str, password: str | None = None
) -> aiohttp.ClientResponse:
    """GET the login page, POST its form; the answer (303 to / when it worked)."""
    async with session.get(url + "login") as page:
        token = csrf_in(await page.text())
    form = {"csrf": token, "username": user, "password": password or PASSWORDS[user]}
    async with session.post(url + "login", data=form, allow_redirects=False) as answer:
        await answer.read()
        return answer


@contextlib.asynccontextmanager
async def logged_in(url: str, user: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with browser() as session:
        answer = await log_in(session, url, user)
        assert answer.status == 303 and answer.headers["Location"] == "/", answer.status
        yield session


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, aiohttp.ClientResponse]:
    async with session.get(url, allow_redirects=False) as answer:
        return answer.status, await answer.text(), answer


async def post(
    session: aiohttp.ClientSession, url: str, form: dict[str, str], **kwargs: object
) -> tuple[int, str, aiohttp.ClientResponse]:
    async with session.post(url, data=form, allow_redirects=False, **kwargs) as answer:
        return answer.status, await answer.text(), answer
