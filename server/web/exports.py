"""What a person takes to a doctor: the report page for a chosen period, and their numbers as
CSV or JSON (daily per-site rates and every report), always their own (the session's user)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date, timedelta
from functools import partial
from typing import Any

from aiohttp import web

from server.errors import NoDataError
from server.report.data import ReportData, load_report_data
from server.report.html import render_html
from server.web.app import REPORT_CSP, VIEW, WebView, person
from twitchwatch.contract import MAX_AGE, Report, format_utc

#: Spreadsheets run a cell that starts with one of these as a formula: such text gets a quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


async def _period(request: web.Request, view: WebView, user: str) -> tuple[date, date]:
    """``?since=YYYY-MM-DD&until=YYYY-MM-DD``; by default the rules' history up to today."""
    today = view.now().astimezone(await view.zone(user)).date()
    try:
        until = date.fromisoformat(request.query.get("until") or today.isoformat())
        default_since = until - timedelta(days=view.rule_config.history_days - 1)
        since = date.fromisoformat(request.query.get("since") or default_since.isoformat())
    except ValueError:
        raise web.HTTPBadRequest(text="Dates are YYYY-MM-DD.") from None
    if since > until:
        raise web.HTTPBadRequest(text="The period starts after it ends.")
    if (until - since).days >= MAX_AGE.days:
        raise web.HTTPBadRequest(text=f"Choose at most {MAX_AGE.days} days.")
    return since, until


async def _data(request: web.Request) -> tuple[ReportData, str, date, date]:
    view = request.app[VIEW]
    session = person(request)
    since, until = await _period(request, view, session.user)
    days = (until - since).days + 1
    try:
        data = await view.db(
            partial(load_report_data, days=days, until=until),
            view.store,
            session.user,
            view.rule_config,
        )
    except NoDataError:
        raise web.HTTPNotFound(
            text=f"Nothing was recorded or reported from {since} to {until}."
        ) from None
    return data, session.user, since, until


async def doctor_report(request: web.Request) -> web.Response:
    view = request.app[VIEW]
    data, user, since, until = await _data(request)
    from server.report.figures import render_figures  # matplotlib: only to draw a report

    loop = asyncio.get_running_loop()
    figures = await loop.run_in_executor(view.render_pool, render_figures, data)
    response = web.Response(text=render_html(data, figures), content_type="text/html")
    response.headers["Content-Security-Policy"] = REPORT_CSP
    if request.query.get("download"):
        name = f"twitchwatch-report-{user}-{since}-{until}.html"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _daily_rows(data: ReportData) -> list[dict[str, Any]]:
    rate = data.rate_per_min
    rows = []
    for i, day in enumerate(data.days):
        for j, site in enumerate(data.sites):
            if not data.worn[j, i] and not data.cramps[j, i]:
                continue
            observed = bool(data.observed[j, i])
            rows.append(
                {
                    "day": day.isoformat(),
                    "site": site,
                    "twitches": int(data.twitches[j, i]),
                    "cramps": int(data.cramps[j, i]),
                    "rest_s": round(float(data.rest_s[j, i]), 1),
                    "active_s": round(float(data.active_s[j, i]), 1),
                    "observed": observed,
                    "twitching": bool(data.active[j, i]),
                    "rate_per_min": round(float(rate[j, i]), 4) if observed else None,
                }
            )
    return rows


def _report_rows(reports: tuple[Report, ...]) -> list[dict[str, Any]]:
    return [
        {
            "t": format_utc(r.t),
            "kind": r.kind.value,
            "site": r.site,
            "value": r.value,
            "note": r.note,
        }
        for r in reports
    ]


def _csv(rows: list[dict[str, Any]], columns: list[str], name: str) -> web.Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row[k]) for k in columns})
    response = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


async def daily_csv(request: web.Request) -> web.Response:
    data, user, since, until = await _data(request)
    columns = [
        "day",
        "site",
        "twitches",
        "cramps",
        "rest_s",
        "active_s",
        "observed",
        "twitching",
        "rate_per_min",
    ]
    return _csv(_daily_rows(data), columns, f"twitchwatch-daily-{user}-{since}-{until}.csv")


async def reports_csv(request: web.Request) -> web.Response:
    data, user, since, until = await _data(request)
    rows = _report_rows(data.reports)
    columns = ["t", "kind", "site", "value", "note"]
    return _csv(rows, columns, f"twitchwatch-reports-{user}-{since}-{until}.csv")


async def data_json(request: web.Request) -> web.Response:
    data, user, since, until = await _data(request)
    doc = {
        "v": 1,
        "user": user,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "generated": format_utc(request.app[VIEW].now().replace(microsecond=0)),
        "daily": _daily_rows(data),
        "reports": _report_rows(data.reports),
    }
    response = web.Response(
        text=json.dumps(doc, ensure_ascii=False, indent=1), content_type="application/json"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="twitchwatch-{user}-{since}-{until}.json"'
    )
    return response
