"""The web view: an aiohttp application in the server's own event loop.

    view = WebView(config, "sqlite:///twitchwatch.db", rule_config)
    await view.start()          # own read-only store connection, own MQTT link, listening
    ...
    await view.close()

It reads the store on a thread of its own (read-only transactions, so it never holds the
server's write lock) and writes nothing there: reports and acks go out over MQTT on the person's
own topics (link.py), and the server ingests them as it would any client's. Every page needs a
login (accounts.py, sessions.py); every POST carries the session's CSRF token (csrf.py); logins
are rate-limited (throttle.py). The middlewares below apply all of it to every route, so a new
page cannot forget it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from server.errors import StoreUnavailable, WebConfigError
from server.rules import RuleConfig
from server.store import Store, open_store
from server.web import csrf
from server.web.accounts import Logins
from server.web.config import WebConfig, is_loopback
from server.web.link import WebLink
from server.web.sessions import MAX_AGE_S, Session, Sessions
from server.web.throttle import LoginThrottle
from twitchwatch.mqtt_link import Protocol

log = logging.getLogger(__name__)
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "tw_session"
HERE = Path(__file__).parent
#: Forms are small: a report's note is at most 500 characters.
MAX_BODY_BYTES = 64 * 1024
#: Pages: only this origin's style sheet and script, no frames, forms post only here.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: The doctor's report: one self-contained page (inline style, figures as data: URIs, no script).
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
#: Reachable without a login: the login page itself, the style sheet and script, and the icon
#: browsers ask for on their own (not found, rather than a redirect to a fresh login page).
PUBLIC = ("/login", "/static/", "/favicon.ico")

VIEW = web.AppKey("view", "WebView")


@dataclass(slots=True)
class Visit:
    """What the middlewares found out about a request: the client's address and whether it came
    over HTTPS (the proxy's word for both, from the proxy only), the session and its token."""

    client: str
    https: bool
    session: Session | None = None
    token: str | None = None


VISIT = web.RequestKey("visit", Visit)


def visit(request: web.Request) -> Visit:
    found = request.get(VISIT)
    return found if found is not None else Visit(request.remote or "", request.secure)


def person(request: web.Request) -> Session:
    """The logged-in session of a page that needs one (the middleware has made sure of it)."""
    session = visit(request).session
    if session is None:
        raise web.HTTPUnauthorized(text="Log in first.")
    return session


class WebView:
    """The web view of one server process.

    Parameters
    ----------
    config : WebConfig
        Address, accounts folder, the web view's broker account, proxy settings.
    store_url : str
        The server's database (opened again here, for reading only).
    rule_config : RuleConfig
        The server's thresholds: days and rates are judged as the alerts judge them.
    """

    def __init__(
        self,
        config: WebConfig,
        store_url: str,
        rule_config: RuleConfig,
        *,
        protocol: Protocol = Protocol.MQTT5,
    ) -> None:
        self.config, self.store_url, self.rule_config = config, store_url, rule_config
        self.sessions = Sessions()
        self.throttle = LoginThrottle()
        self.link = WebLink(config.broker, protocol=protocol)
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,  # every value, in every template: notes are a person's own text
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        from server.web.filters import FILTERS

        self.templates.filters.update(FILTERS)
        self.logins: Logins | None = None
        self.url = config.url
        self._store: Store | None = None
        self._db_pool = ThreadPoolExecutor(1, thread_name_prefix="twitchwatch-web-db")
        #: Figures for the doctor's report render here, one at a time, beside the page reads.
        self.render_pool = ThreadPoolExecutor(1, thread_name_prefix="twitchwatch-web-figures")
        self._runner: web.AppRunner | None = None
        self.app = self._make_app()

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the accounts, open the store, connect to the broker, listen. WebConfigError,
        StoreError or MqttLinkError (one line) if any of them fails."""
        self.logins = await asyncio.to_thread(Logins, self.config.accounts)
        self._store = await self.db(open_store, self.store_url)
        await self.link.start()
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise WebConfigError(
                f"--http {self.config.host}:{self.config.port}", exc.strerror or str(exc)
            ) from None
        self._runner = runner
        port = runner.addresses[0][1] if runner.addresses else self.config.port
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        self.url = f"http://{host}:{port}/"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.link.close()
        if self._store is not None:
            await self.db(self._store.close)
            self._store = None
        self._db_pool.shutdown(wait=True)
        self.render_pool.shutdown(wait=True)

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the web view's database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._db_pool, fn, *args)

    @property
    def store(self) -> Store:
        assert self._store is not None, "WebView.start() first"
        return self._store

    async def zone(self, user: str) -> tzinfo:
        """The person's time zone, as the server cuts their days (UTC until a profile sets one)."""
        from server.web.person_data import profile_tz

        return ZoneInfo(await self.db(profile_tz, self.store, user))

    def display_name(self, user: str) -> str:
        """How the pages greet a person: their profile's name, else their user id."""
        profile = self.link.profiles.get(user)
        return profile.name if profile is not None and profile.name else user

    def now(self) -> datetime:
        return datetime.now(UTC)

    # --- the application -----------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        from server.web import actions, exports, pages

        app = web.Application(
            middlewares=[
                _headers,
                self._error_pages,
                self._client,
                self._login_required,
                self._csrf,
            ],
            client_max_size=MAX_BODY_BYTES,
        )
        app[VIEW] = self
        app.router.add_get("/login", actions.login_page)
        app.router.add_post("/login", actions.login)
        app.router.add_post("/logout", actions.logout)
        app.router.add_get("/", pages.home)
        app.router.add_get("/weeks", pages.weeks)
        app.router.add_get("/alerts", pages.alerts)
        app.router.add_get("/alerts/{rule}/{scope}", pages.alert)
        app.router.add_post("/alerts/{rule}/{scope}/ack", actions.ack)
        app.router.add_get("/reports", pages.reports)
        app.router.add_post("/reports", actions.report)
        app.router.add_get("/doctor", pages.doctor)
        app.router.add_get("/profile", pages.profile)
        app.router.add_post("/profile", actions.profile)
        app.router.add_get("/doctor/report", exports.doctor_report)
        app.router.add_get("/export/daily.csv", exports.daily_csv)
        app.router.add_get("/export/reports.csv", exports.reports_csv)
        app.router.add_get("/export/data.json", exports.data_json)
        app.router.add_get("/fragment/today", pages.today_fragment)
        app.router.add_get("/fragment/alerts", pages.alerts_fragment)
        app.router.add_static("/static/", HERE / "static", append_version=False)
        return app

    @web.middleware
    async def _error_pages(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A refusal or an error as a page of the site (phone-sized, same style), not bare text;
        its words are the ones the handler chose, never more."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400 or exc.content_type != "text/plain":
                raise
            page = self.templates.get_template("error.html").render(
                title=exc.reason,
                message=exc.text or exc.reason,
                user=None,
                csrf_token="",
                flashes=[],
                path=request.path,
            )
            headers = {
                k: v for k, v in exc.headers.items() if k not in ("Content-Type", "Content-Length")
            }
            raise type(exc)(text=page, content_type="text/html", headers=headers) from None

    @web.middleware
    async def _client(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Who is asking, and over what: the proxy's word for it only from the proxy."""
        peer = request.remote or ""
        proxy = self.config.trusted_proxy
        if proxy is not None and peer == proxy:
            forwarded = request.headers.get("X-Forwarded-For", "")
            request[VISIT] = Visit(
                forwarded.rsplit(",", 1)[-1].strip() or peer,
                request.headers.get("X-Forwarded-Proto", "") == "https",
            )
        elif proxy is not None and not self.config.insecure and not is_loopback(self.config.host):
            # Listening beyond loopback for a proxy: nobody else may talk plain HTTP to us.
            raise web.HTTPForbidden(text="Use the HTTPS address of this service.")
        else:
            request[VISIT] = Visit(peer, request.secure)
        return await handler(request)

    @web.middleware
    async def _login_required(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        token = request.cookies.get(SESSION_COOKIE)
        session = self.sessions.get(token)
        here = visit(request)
        here.session, here.token = session, token
        if session is None and not request.path.startswith(PUBLIC):
            if request.method == "GET" and not request.path.startswith("/fragment/"):
                raise web.HTTPSeeOther("/login")
            raise web.HTTPUnauthorized(text="Log in first.")
        try:
            return await handler(request)
        except StoreUnavailable:
            log.warning("store unavailable for %s", request.path)
            raise web.HTTPServiceUnavailable(
                text="The database is busy or unavailable; please try again in a moment."
            ) from None

    @web.middleware
    async def _csrf(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every POST: from this origin, and carrying the session's (or login page's) token."""
        if request.method != "POST":
            return await handler(request)
        origin = request.headers.get("Origin")
        if origin is not None and origin != "null" and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="This form came from another site.")
        form = await request.post()
        given = str(form.get("csrf", ""))
        session = visit(request).session
        if request.path == "/login":
            expected = request.cookies.get(csrf.LOGIN_COOKIE)
        else:
            expected = session.csrf if session is not None else None
        if not csrf.matches(expected, given):
            raise web.HTTPForbidden(
                text="This form has expired or did not come from this site: reload the page."
            )
        return await handler(request)

    # --- rendering -------------------------------------------------------------------------------

    def render(
        self, request: web.Request, template: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        session = visit(request).session
        flashes = []
        if session is not None:
            flashes, session.flashes = session.flashes, []
        page = self.templates.get_template(template).render(
            user=session.user if session else None,
            display_name=self.display_name(session.user) if session else None,
            csrf_token=session.csrf if session else "",
            flashes=flashes,
            **{"path": request.path, **context},
        )
        return web.Response(text=page, content_type="text/html", status=status)

    def set_session_cookie(
        self, request: web.Request, response: web.StreamResponse, token: str
    ) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(MAX_AGE_S),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=visit(request).https,
        )


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every answer, errors included; pages are never cached."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc)
        raise
    _secure(request, response)
    return response


def _secure(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", PAGE_CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    if visit(request).https:
        headers["Strict-Transport-Security"] = "max-age=31536000"
