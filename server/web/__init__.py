"""The web view: a person's own pages, served by the server (``twitchwatch server --http``).

Phone-first, server-rendered pages (aiohttp in the server's own event loop, Jinja2 templates
with autoescape on, a few lines of JavaScript to refresh today's windows). A person logs in with
their broker account; they see their per-site daily rates, today's windows, cramps, alerts with
their history, and their reports; they report a symptom or context in one tap and acknowledge
alerts; they take the doctor's report and their numbers away. It reads the store and writes
nothing there: what a person sends goes out over MQTT on their own topics, like any client's.

The modules: ``config`` (address, proxy, accounts), ``passwords`` and ``accounts`` (logins),
``sessions``, ``csrf``, ``throttle``, ``app`` (the application and its middlewares), ``pages``,
``actions`` and ``exports`` (the handlers), ``person_data`` (the reads), ``charts``,
``report_form``, ``filters``, ``link`` (its own MQTT link), ``templates/`` and ``static/``.
"""

from __future__ import annotations

from server.web.app import WebView
from server.web.config import DEFAULT_ACCOUNTS, WebConfig, is_loopback, parse_listen
from server.web.passwords import hash_password, verify_password

__all__ = [
    "DEFAULT_ACCOUNTS",
    "WebConfig",
    "WebView",
    "hash_password",
    "is_loopback",
    "parse_listen",
    "verify_password",
]
