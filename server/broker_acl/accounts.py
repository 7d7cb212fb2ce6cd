"""Every account of a deployment and what it may read and write.

What each account may do (anything else is denied; MQTT 5 clients get "Not authorized"):

- device ``dev-<user>-<device>``: write its ``windows`` and ``status`` (the Last Will too), read
  its ``ack``; read and write its person's ``profile`` (the edge merges ``[mqtt] tz`` into it);
  read the server's status (its time tells the edge whether its clock is right);
- person ``<user>``: read ``<user>/alerts/#``, write ``<user>/reports`` and ``<user>/acks``,
  read and write ``<user>/profile`` (``twitchwatch alerts`` shows times in its zone), read the
  server's status; with ``homeassistant = true`` also read its devices' ``windows``/``status``
  and write discovery configs under its own ``node_id`` (``alerts --homeassistant``);
- server: read every ``windows``, ``status``, ``reports``, ``acks`` and ``profile``; write every
  device ``ack``, every alert and its own status, and nothing more (least privilege: it never
  reads alerts, its status or the device acks);
- Home Assistant: read the windows, status and alerts of people who opted in, the server's
  status, and its own discovery prefix;
- the web view (``web = "twitchwatch-web"``, optional): write every person's ``reports`` and
  ``acks``, read and write every ``profile`` (it publishes what a logged-in person sends, on
  that person's topics only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from server.broker_acl.deployment import Deployment, Person
from server.errors import BrokerAclError
from server.homeassistant import node_id
from twitchwatch.contract import (
    ALL_ALERTS_FILTER,
    SERVER_FILTERS,
    SERVER_STATUS_TOPIC,
    TopicKind,
    alert_acks_topic,
    alerts_filter,
    device_filter,
    device_topic,
    profile_topic,
    reports_topic,
)


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    READWRITE = "readwrite"


class Role(StrEnum):
    SERVER = "server"
    DEVICE = "device"
    PERSON = "person"
    HOMEASSISTANT = "homeassistant"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class Grant:
    access: Access
    topic: str


@dataclass(frozen=True, slots=True)
class Account:
    """One broker username and what it may read and write."""

    username: str
    role: Role
    description: str
    grants: tuple[Grant, ...]


def device_username(user: str, device: str) -> str:
    return f"dev-{user}-{device}"


def plan_accounts(deployment: Deployment) -> list[Account]:
    """Every account with its grants; usernames must be unique. Device ids are per person
    (issue 15): two people may each have a ``kitchen-pi``, each its own account and topics."""
    shared = len(deployment.servers) > 1
    accounts = [_server(name, shared) for name in deployment.servers]
    for person in deployment.people:
        accounts.append(_person_account(person, deployment.ha_prefix))
        for device in person.devices:
            accounts.append(_device_account(person.user, device))
    if deployment.homeassistant is not None:
        shown = [p.user for p in deployment.people if p.homeassistant]
        accounts.append(_homeassistant(deployment.homeassistant, shown, deployment.ha_prefix))
    if deployment.web is not None:
        accounts.append(_web(deployment.web))
    seen: dict[str, Account] = {}
    for account in accounts:
        if account.username in seen:
            raise BrokerAclError(
                "accounts",
                f"username {account.username!r} is both {seen[account.username].description} "
                f"and {account.description}: rename one",
            )
        seen[account.username] = account
    return accounts


def _server(username: str, shared: bool) -> Account:
    """What the server subscribes to, and what it publishes (a share group's servers settle
    the device acks from the database, server/ack_settle.py: none reads them)."""
    reads = [Grant(Access.READ, SERVER_FILTERS[kind]) for kind in SERVER_FILTERS]
    writes = [
        Grant(Access.WRITE, device_filter(TopicKind.ACK)),
        Grant(Access.WRITE, ALL_ALERTS_FILTER),
        Grant(Access.WRITE, SERVER_STATUS_TOPIC),
    ]
    what = "a TwitchWatch server of the share group" if shared else "the TwitchWatch server"
    return Account(username, Role.SERVER, what, (*reads, *writes))


def _device_account(user: str, device: str) -> Account:
    return Account(
        device_username(user, device),
        Role.DEVICE,
        f"device {device} of {user}",
        (
            Grant(Access.WRITE, device_topic(user, device, TopicKind.WINDOWS)),
            Grant(Access.WRITE, device_topic(user, device, TopicKind.STATUS)),
            Grant(Access.READ, device_topic(user, device, TopicKind.ACK)),
            # read too: the edge merges its zone into the profile (edge/publisher/profile.py)
            Grant(Access.READWRITE, profile_topic(user)),
            # its "at" tells the edge whether its clock is far off (edge/wall_clock.py)
            Grant(Access.READ, SERVER_STATUS_TOPIC),
        ),
    )


def _person_account(person: Person, ha_prefix: str) -> Account:
    user = person.user
    grants = [
        Grant(Access.READ, alerts_filter(user)),
        Grant(Access.WRITE, reports_topic(user)),
        Grant(Access.WRITE, alert_acks_topic(user)),
        Grant(Access.READWRITE, profile_topic(user)),
        Grant(Access.READ, SERVER_STATUS_TOPIC),
    ]
    if person.homeassistant:
        grants += [
            Grant(Access.READ, device_filter(TopicKind.WINDOWS, user)),
            Grant(Access.READ, device_filter(TopicKind.STATUS, user)),
            Grant(Access.WRITE, f"{ha_prefix}/+/{node_id(user)}/+/config"),
            Grant(Access.READ, f"{ha_prefix}/status"),
        ]
    return Account(user, Role.PERSON, f"person {user}", tuple(grants))


def _homeassistant(username: str, users: Iterable[str], ha_prefix: str) -> Account:
    grants = [Grant(Access.READWRITE, f"{ha_prefix}/#"), Grant(Access.READ, SERVER_STATUS_TOPIC)]
    for user in users:
        grants += [
            Grant(Access.READ, device_filter(TopicKind.WINDOWS, user)),
            Grant(Access.READ, device_filter(TopicKind.STATUS, user)),
            Grant(Access.READ, alerts_filter(user)),
        ]
    return Account(username, Role.HOMEASSISTANT, "Home Assistant", tuple(grants))


def _web(username: str) -> Account:
    """The web view publishes what a logged-in person sends: reports, acks and their profile, on
    that person's own topics (the web view checks whose; the broker can only say "some
    person's"). It reads the profiles for people's display names."""
    writes = [SERVER_FILTERS[TopicKind.REPORTS], SERVER_FILTERS[TopicKind.ALERT_ACKS]]
    grants = [Grant(Access.WRITE, topic) for topic in writes]
    grants.append(Grant(Access.READWRITE, SERVER_FILTERS[TopicKind.PROFILE]))
    return Account(username, Role.WEB, "the TwitchWatch web view", tuple(grants))
