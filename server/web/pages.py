"""The pages a logged-in person reads: today, the weeks, alerts, reports, the doctor's page.

Every handler reads the session's user from the request (the middleware put it there) and
nothing else decides whose data is read: no page takes a user from its URL or its query.
"""

from __future__ import annotations

from aiohttp import web

from server.rules import RULES
from server.web.app import VIEW, person
from server.web.charts import hours_chart, weeks_chart
from server.web.person_data import (
    AlertItem,
    read_alerts,
    read_reports,
    read_sites,
    read_today,
    read_weeks,
)
from server.web.profile_form import zone_groups
from server.web.report_form import (
    VALUE_HINTS,
    context_kinds,
    label,
    site_groups,
    symptom_kinds,
)
from twitchwatch.contract import MAX_NAME_CHARS, ContractError, Rule, check_id, new_report_id


def _user(request: web.Request) -> str:
    session = person(request)
    return session.user


async def _today_context(request: web.Request) -> dict[str, object]:
    view, user = request.app[VIEW], _user(request)
    zone, now = await view.zone(user), view.now()
    today = await view.db(read_today, view.store, user, zone, now, view.rule_config)
    local_now = now.astimezone(zone)
    charts = {s.site: hours_chart(s.hours, local_now) for s in today.sites}
    return {"today": today, "today_charts": charts, "zone": zone, "now": now}


async def _alerts(request: web.Request) -> list[AlertItem]:
    view, user = request.app[VIEW], _user(request)
    return await view.db(read_alerts, view.store, user, await view.zone(user), view.now())


async def home(request: web.Request) -> web.Response:
    view, user = request.app[VIEW], _user(request)
    context = await _today_context(request)
    alerts = [a for a in await _alerts(request) if a.current]
    sites = await view.db(read_sites, view.store, user)
    return view.render(
        request,
        "home.html",
        title="Today",
        alerts=alerts,
        symptoms=symptom_kinds(),
        contexts=context_kinds(),
        site_groups=site_groups(sites),
        value_hints=VALUE_HINTS,
        report_id=new_report_id(),
        **context,
    )


async def today_fragment(request: web.Request) -> web.Response:
    view = request.app[VIEW]
    return view.render(request, "_today.html", **await _today_context(request))


async def alerts_fragment(request: web.Request) -> web.Response:
    view, user = request.app[VIEW], _user(request)
    alerts = [a for a in await _alerts(request) if a.current]
    # Its forms send the person back to the page the fragment is shown on, not to the fragment.
    return view.render(request, "_alerts.html", alerts=alerts, zone=await view.zone(user), path="/")


async def weeks(request: web.Request) -> web.Response:
    view, user = request.app[VIEW], _user(request)
    zone = await view.zone(user)
    today = view.now().astimezone(zone).date()
    data = await view.db(read_weeks, view.store, user, today, view.rule_config)
    charts = (
        {}
        if data is None
        else {s.site: weeks_chart(s, data.days, data.threshold) for s in data.sites}
    )
    return view.render(request, "weeks.html", title="Weeks", weeks=data, charts=charts, zone=zone)


async def alerts(request: web.Request) -> web.Response:
    view, user = request.app[VIEW], _user(request)
    items = await _alerts(request)
    return view.render(
        request,
        "alerts.html",
        title="Alerts",
        current=[a for a in items if a.current],
        past=[a for a in items if not a.current],
        zone=await view.zone(user),
    )


async def alert(request: web.Request) -> web.Response:
    """One of the person's own alerts with its whole history; anything else is 404."""
    view, user = request.app[VIEW], _user(request)
    item = await find_alert(request)
    return view.render(
        request, "alert.html", title=item.title, item=item, zone=await view.zone(user)
    )


async def find_alert(request: web.Request) -> AlertItem:
    """The session user's alert named by the URL; 404 for a rule, scope or alert they lack."""
    rule, scope = request.match_info["rule"], request.match_info["scope"]
    try:
        key = (Rule(rule).value, check_id(scope, "scope"))
    except (ValueError, ContractError):
        raise web.HTTPNotFound(text="No such alert.") from None
    for item in await _alerts(request):
        if (item.state.rule.value, item.state.scope) == key:
            return item
    raise web.HTTPNotFound(text="No such alert.")


async def reports(request: web.Request) -> web.Response:
    view, user = request.app[VIEW], _user(request)
    found = await view.db(read_reports, view.store, user, view.now())
    return view.render(
        request,
        "reports.html",
        title="Reports",
        reports=found,
        label=label,
        zone=await view.zone(user),
        symptoms={c.value for c in symptom_kinds()},
    )


async def doctor(request: web.Request) -> web.Response:
    view, user = request.app[VIEW], _user(request)
    today = view.now().astimezone(await view.zone(user)).date()
    days = view.rule_config.history_days
    return view.render(
        request,
        "doctor.html",
        title="For your doctor",
        until=today,
        since=today.fromordinal(today.toordinal() - days + 1),
        rules={rule.value: unit.title for rule, unit in RULES.items()},
    )


async def profile(request: web.Request) -> web.Response:
    """The person's time zone (as the server cuts their days) and display name."""
    view, user = request.app[VIEW], _user(request)
    zone = await view.zone(user)
    shown = view.link.profiles.get(user)
    return view.render(
        request,
        "profile.html",
        title="Profile",
        tz=getattr(zone, "key", "UTC"),
        name=shown.name if shown is not None and shown.name else "",
        groups=zone_groups(),
        max_name=MAX_NAME_CHARS,
    )
