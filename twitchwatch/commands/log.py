"""``twitchwatch log``: report a symptom or context from a terminal, as the web view does.

The report goes to ``twitchwatch/v1/<user>/reports`` at QoS 1, after it is stored in a local
outbox; it leaves the outbox once the broker acknowledges it. When the broker cannot be reached
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
    from twitchwatch.contract import Report

#: sysexits.h EX_TEMPFAIL: the report is kept and will go out later.
EXIT_KEPT = 75


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
    from twitchwatch.contract import Report, check_id

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
    t = now if args.at is None else parse_when(args.at, now, zone)  # checked before anything
    stored: Waiting | None = None
    with ReportOutbox(outbox_path) as outbox:
        if kind is not None:
            stored = outbox.add(user, Report(t, kind, site, args.value, args.note), now)
        async with PersonClient(broker, user, connect_timeout_s=args.connect_timeout) as client:
            delivery = await client.deliver(outbox)
        if stored is not None:
            print(_sent_line(stored, zone, zone_label(zone), delivery))
            for advice in _advice_at_once(user, stored.report):
                print(advice)
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


def _advice_at_once(user: str, report: Report) -> list[str]:
    """What the rules say about this report on its own (speech, swallowing or breathing trouble:
    the urgent advice), at once rather than when the server's alert arrives."""
    from server.at_once import advice_at_once

    return [f"{f.severity.value.upper()}: {f.message}" for f in advice_at_once(user, report)]
