"""What a person does on the pages: log in and out, send a report, acknowledge an alert.

Reports and acks are published over MQTT on the session user's own topics (never a user named
by the form), then the handler waits a few seconds for the server to have stored and evaluated
them, so the page the person lands on already shows what changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from server import wording
from server.at_once import advice_at_once
from server.errors import FormError, PublishError
from server.rules import RULES
from server.web import csrf
from server.web.app import SESSION_COOKIE, VIEW, WebView, person, visit
from server.web.pages import find_alert
from server.web.person_data import alert_state, profile_tz, read_history, report_settled
from server.web.profile_form import parse_profile
from server.web.report_form import label, parse_report
from server.web.sessions import Flash, Session
from twitchwatch.contract import ADVICE, AckAction, AlertAck, Severity

log = logging.getLogger(__name__)

#: How long a handler waits for the server to store and evaluate what it just published.
SETTLE_S = 5.0
POLL_S = 0.1
MAX_USERNAME = 200
MAX_PASSWORD = 1_000


# --- logging in and out --------------------------------------------------------------------------


async def login_page(request: web.Request, *, problem: str | None = None, status: int = 200):
    view = request.app[VIEW]
    if visit(request).session is not None and problem is None:
        raise web.HTTPSeeOther("/")
    # The token already given stays: a second tab, or a browser's own request that lands here,
    # must not invalidate the form a person is filling in.
    token = csrf.login_token(request.cookies.get(csrf.LOGIN_COOKIE))
    response = view.render(
        request, "login.html", title="Log in", login_token=token, problem=problem, status=status
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        max_age=csrf.LOGIN_TOKEN_S,
        path="/login",
        httponly=True,
        samesite="Strict",
        secure=visit(request).https,
    )
    return response


async def login(request: web.Request) -> web.StreamResponse:
    view = request.app[VIEW]
    assert view.logins is not None
    form = await request.post()
    username = str(form.get("username", ""))[:MAX_USERNAME].strip()
    password = str(form.get("password", ""))[:MAX_PASSWORD]
    client = visit(request).client
    wait_s = view.throttle.retry_after(username, client)
    if wait_s is not None:
        minutes = max(1, round(wait_s / 60))
        problem = f"Too many attempts. Please wait {minutes} minute{'s' * (minutes > 1)}."
        return await login_page(request, problem=problem, status=429)
    user = await asyncio.to_thread(view.logins.check, username, password)
    if user is None:
        view.throttle.failed(username, client)
        log.info("failed web login for %r from %s", username, client)
        return await login_page(request, problem="Wrong username or password.", status=401)
    view.throttle.succeeded(username)
    view.sessions.drop(visit(request).token)  # a new token at login: no session fixation
    token, _ = view.sessions.create(user)
    response = web.HTTPSeeOther("/")
    view.set_session_cookie(request, response, token)
    response.del_cookie(csrf.LOGIN_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    view = request.app[VIEW]
    view.sessions.drop(visit(request).token)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


# --- reports and acks ----------------------------------------------------------------------------


async def report(request: web.Request) -> web.StreamResponse:
    view = request.app[VIEW]
    session = person(request)
    user, zone, now = session.user, await view.zone(session.user), view.now()
    try:
        sent = parse_report(dict(await request.post()), zone, now)
    except FormError as exc:
        session.flashes.append(Flash(f"Not sent: {exc}", "problem"))
        raise web.HTTPSeeOther("/#report") from None
    if not await _publish(session, lambda: view.link.report(user, sent)):
        raise web.HTTPSeeOther("/#report")
    where = f" at the {wording.site_name(sent.site)}" if sent.site else ""
    local = sent.t.astimezone(zone)
    text = f"Sent: {label(sent.kind).lower()}{where}, {local:%a} {local.day} {local:%b %H:%M}."
    settled = await _settle(view, lambda: report_settled(view.store, user, sent))
    if not settled:
        text += " The server has not stored it yet; it will show here once it has."
    session.flashes.append(Flash(text))
    # What the report raises, in the rules' words about this person's own history, at once: in
    # full when it is urgent or the server has not answered yet, else its advice above the alert.
    history = await view.db(read_history, view.store, user, zone, now, view.rule_config)
    for finding in advice_at_once(user, sent, history, view.rule_config):
        level = finding.severity.value
        if settled and finding.severity is not Severity.URGENT:
            title = RULES[finding.rule].title
            text = f"{title}: {ADVICE[finding.severity]} The alert is below."
        else:
            text = finding.message
        session.flashes.append(Flash(text, level))
    raise web.HTTPSeeOther("/")


async def ack(request: web.Request) -> web.StreamResponse:
    """Mark one of the person's own alerts as seen, or a symptom's as resolved after seeing a
    doctor (the same acks the MQTT path uses); 404 for an alert they do not have."""
    view = request.app[VIEW]
    session = person(request)
    item = await find_alert(request)
    form = await request.post()
    try:
        action = AckAction(str(form.get("action", AckAction.SEEN.value)))
    except ValueError:
        raise web.HTTPBadRequest(text="Choose one of the buttons.") from None
    if action is AckAction.RESOLVED and not item.can_resolve:
        # The measurements close it, not a click: the server would refuse it too.
        raise web.HTTPBadRequest(
            text="This alert follows the measurements; it cannot be closed by hand."
        )
    target = AlertAck(item.state.rule, item.state.scope, action)
    if not await _publish(session, lambda: view.link.ack(session.user, target)):
        raise web.HTTPSeeOther(f"/alerts/{item.key}")
    key = (item.state.rule.value, item.state.scope)

    def answered() -> bool:
        state = alert_state(view.store, session.user, key)
        if state is None or state.version > item.state.version:
            return True
        return state.acknowledged if action is AckAction.SEEN else not item.current

    settled = await _settle(view, answered)
    if not settled:
        session.flashes.append(Flash("Sent; the page will show it once the server has it."))
    elif action is AckAction.RESOLVED:
        session.flashes.append(Flash(f"{item.title} marked as resolved after seeing a doctor."))
    else:
        session.flashes.append(
            Flash(f"{item.title} marked as seen: no reminders unless it changes.")
        )
    raise web.HTTPSeeOther(_back(request))


def _back(request: web.Request) -> str:
    """Where the ack's form came from: a path on this site only (never another site)."""
    back = request.query.get("back", "")
    return back if back.startswith("/") and not back.startswith(("//", "/\\")) else "/alerts"


async def _publish(session: Session, send: Callable[[], Awaitable[None]]) -> bool:
    try:
        await send()
    except PublishError as exc:
        log.warning("web publish for %s failed: %s", session.user, exc)
        session.flashes.append(
            Flash(
                "Not sent: the server's message broker did not answer. Please try again.", "problem"
            )
        )
        return False
    return True


async def _settle(view: WebView, done: Callable[[], bool]) -> bool:
    """Poll the store (on its thread) until ``done`` or SETTLE_S have passed."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        if await view.db(done):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)


async def profile(request: web.Request) -> web.StreamResponse:
    """Publish the person's profile, retained, then wait for the server to cut their days in it."""
    view = request.app[VIEW]
    session = person(request)
    try:
        sent = await asyncio.to_thread(parse_profile, dict(await request.post()))
    except FormError as exc:
        session.flashes.append(Flash(f"Not saved: {exc}", "problem"))
        raise web.HTTPSeeOther("/profile") from None
    if not await _publish(session, lambda: view.link.profile(session.user, sent)):
        raise web.HTTPSeeOther("/profile")

    def taken() -> bool:
        return profile_tz(view.store, session.user) == sent.tz

    settled = await _settle(view, taken) and await _settle_here(
        lambda: view.link.profiles.get(session.user) == sent
    )
    text = f"Saved: dates and days now follow {sent.tz}."
    if not settled:
        text = "Sent; the pages follow it once the server has taken it."
    session.flashes.append(Flash(text))
    raise web.HTTPSeeOther("/profile")


async def _settle_here(done: Callable[[], bool]) -> bool:
    """Poll something in this process (the link's profiles) until ``done`` or SETTLE_S."""
    deadline = time.monotonic() + SETTLE_S
    while not done():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)
    return True
