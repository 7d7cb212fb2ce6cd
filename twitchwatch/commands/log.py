"""``twitchwatch log``: report a symptom or context from a terminal, as the web view does.

The report goes to ``twitchwatch/v1/<user>/reports`` at QoS 1, after it is stored in a local
outbox; it leaves the outbox once the broker acknowledges it. ``--at`` reads times in the zone of
the person's retained profile (as last seen), else person.toml's ``tz``, else the system's. A
symptom that raises an alert on its own (weakness, wasting, numbness; speech, swallowing or
breathing trouble) gets its advice at once, then the server's alert as published, when the server
runs. When the broker cannot be reached
it waits there, and the next ``twitchwatch log`` (or ``twitchwatch log --flush``) sends it
first; the command then exits with 75 (EX_TEMPFAIL: try again later) instead of 0.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from twitchwatch.commands.options import BROKER_HELP

if TYPE_CHECKING:
    from person import Delivery, PersonConfig, Waiting
    from twitchwatch.contract import AlertState

#: sysexits.h EX_TEMPFAIL: the report is kept and will go out later.
EXIT_KEPT = 75
#: How long to wait for the server's alert after a report that raises one.
ANSWER_WITHIN_S = 5.0


def register(commands: argparse._SubParsersAction) -> None:
    log = commands.add_parser(
        "log",
        help="report a symptom (weakness, numbness, …) or context (caffeine, sleep, …)",
        description="Report a symptom or context to the server, e.g. "
        "`twitchwatch log weakness --site right_hand` or "
        "`twitchwatch log caffeine --value 3 --at 'today 8:15'`. Broker, user and password can "
        "come from ~/.config/twitchwatch/person.toml.",
    )
    log.add_argument(
        "kind",
        nargs="?",
        metavar="KIND",
        help="weakness, atrophy (wasting), numbness (tingling), speech, swallowing, breathing; "
        "caffeine, sleep, stress, exercise, medication, …",
    )
    log.add_argument("--site", help="where, e.g. right_hand, left_calf, tongue")
    log.add_argument(
        "--value", type=float, help="how much: cups of coffee, hours of sleep, stress 0-10, …"
    )
    log.add_argument("--note", help="a few words of your own (at most 500 characters)")
    log.add_argument(
        "--at",
        metavar="TIME",
        help="when, in your time zone: 'yesterday 20:00', 'today 8:15', '20:00', "
        "'2026-12-01 07:30' (default: now)",
    )
    log.add_argument("--broker", help=f"{BROKER_HELP} (default: broker in person.toml)")
    log.add_argument(
        "--user", help="your id, the <user> topic level (default: user in person.toml)"
    )
    log.add_argument(
        "--config", type=Path, help="person config (default ~/.config/twitchwatch/person.toml)"
    )
    log.add_argument(
        "--flush", action="store_true", help="only send the reports waiting in the outbox"
    )
    log.add_argument(
        "--connect-timeout", type=float, default=5.0, help="seconds to wait for the broker"
    )
    log.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    import sys

    from person import (
        PersonClient,
        ReportOutbox,
        default_outbox_path,
        load_person_config,
        parse_when,
        report_kind,
        report_site,
        zone_label,
    )
    from person.errors import MissingSettingError
    from server.at_once import advice_at_once
    from server.rules import RULES
    from twitchwatch.contract import ADVICE, Report, check_id, new_report_id

    config = load_person_config(args.config)
    if args.kind is None and not args.flush:
        raise MissingSettingError("KIND (or --flush)", "nothing", config.path)
    broker_text = args.broker or config.broker
    if broker_text is None:
        raise MissingSettingError("--broker", "broker", config.path)
    user = args.user or config.user
    if user is None:
        raise MissingSettingError("--user", "user", config.path)
    check_id(user, "user")
    broker = config.broker_url(broker_text)
    # A wrong word fails before anything is stored or sent.
    kind = None if args.kind is None else report_kind(args.kind)
    site = None if args.site is None else report_site(args.site)
    # Whole seconds: the payload carries what a person means by "now", and the outbox hands
    # back exactly what was stored.
    now = datetime.now(UTC).replace(microsecond=0)
    outbox_path = config.outbox or default_outbox_path()
    zone = _zone(config, _known_zone(outbox_path, user))
    if args.at is not None:
        parse_when(args.at, now, zone)  # a wrong --at fails before anything is stored or sent
    stored: Waiting | None = None
    answers: list[AlertState] = []
    with ReportOutbox(outbox_path) as outbox:
        async with PersonClient(broker, user, connect_timeout_s=args.connect_timeout) as client:
            await client.settle()
            if client.profile is not None:  # the person's own zone, as the server uses it
                outbox.remember_zone(user, client.profile.tz)
                zone = client.profile.zone
            if kind is not None:
                t = now if args.at is None else parse_when(args.at, now, zone)
                # An id: a resend (the PUBACK was lost) replaces the report, never doubles it.
                report = Report(t, kind, site, args.value, args.note, id=new_report_id())
                stored = outbox.add(user, report, now)
            findings = [] if stored is None else advice_at_once(user, stored.report, tz=_tz(zone))
            before = client.alert_versions()
            delivery = await client.deliver(outbox)
            sent_now = stored is not None and any(w.id == stored.id for w in delivery.sent)
            if findings and sent_now and client.server_online:
                keys = [(f.rule.value, f.scope) for f in findings]
                answers = await client.changed_alerts(keys, before, ANSWER_WITHIN_S)
        if stored is not None:
            print(_sent_line(stored, zone, zone_label(zone), delivery))
            # At once, in the rules' words: which alert this report raises and its advice.
            for finding in findings:
                title = RULES[finding.rule].title
                print(f"{finding.severity.value.upper()}: {title}. {ADVICE[finding.severity]}")
            for state in answers:  # then what the server published, with its own measurements
                print(f"the server's alert {state.rule.value}/{state.scope}: {state.message}")
        earlier = [w for w in delivery.sent if stored is None or w.id != stored.id]
        if earlier:
            print(f"also sent {len(earlier)} earlier report(s) that were waiting")
        if delivery.waiting:
            print(
                f"twitchwatch: {delivery.problem}: {delivery.waiting} report(s) wait in "
                f"{outbox.path} and go out with the next `twitchwatch log` "
                "(or `twitchwatch log --flush`)",
                file=sys.stderr,
            )
            return EXIT_KEPT
        if stored is None and not delivery.sent:
            print("nothing was waiting")
    return 0


def _tz(zone: tzinfo) -> str:
    """The IANA name of ``zone`` for the rules' words; UTC for a bare offset."""
    from zoneinfo import ZoneInfo

    return zone.key if isinstance(zone, ZoneInfo) else "UTC"


def _zone(config: PersonConfig, profile_tz: str | None) -> tzinfo:
    """The person's zone: their profile's as last seen, else person.toml's, else the system's."""
    from person import system_zone, zone_named

    for name in (profile_tz, config.tz):
        if name is not None and (zone := zone_named(name)) is not None:
            return zone
    return system_zone()


def _known_zone(outbox: Path, user: str) -> str | None:
    """The zone last seen in the person's profile, if an outbox already remembers one."""
    from person import ReportOutbox

    if not outbox.exists():
        return None
    with ReportOutbox(outbox) as box:
        return box.known_zone(user)


def _sent_line(stored: Waiting, zone: tzinfo, label: str, delivery: Delivery) -> str:
    from server.wording import site_name

    report = stored.report
    what = report.kind.value + (f" at the {site_name(report.site)}" if report.site else "")
    if report.value is not None:
        what += f", {report.value:g}"
    when = report.t.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    note = f', note "{report.note}"' if report.note else ""
    sent = any(w.id == stored.id for w in delivery.sent)
    how = "sent, the broker acknowledged it" if sent else "stored, not sent yet"
    return f"{what}, {when} {label}{note}: {how}"
