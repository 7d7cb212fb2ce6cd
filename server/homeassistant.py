"""Home Assistant MQTT discovery for one person's TwitchWatch data (opt-in: ``alerts --homeassistant``).

Home Assistant reads TwitchWatch's own topics; this bridge only tells it what they mean, with one
retained discovery config per entity (``<prefix>/<component>/<node_id>/<object_id>/config``):

- a ``sensor`` per (device, site): twitches per minute of observed rest, computed by Home Assistant
  from each window the device publishes (``twitchwatch/v1/<user>/<device>/windows``); unknown when
  the window holds no rest for that site (no data is not zero); unavailable when the device's
  status says offline or no window came for three window lengths;
- per alert of advisory level or above, a ``binary_sensor`` (device class ``problem``): on while
  the alert's retained state is ``firing``, with the state's fields (severity, message, since,
  context, evidence, folded_into) as attributes. Information is not a problem: an info-level
  alert (eyelid twitching) is a plain ``sensor`` whose state is the alert's state, with the same
  attributes. Should an alert cross that line (its severity changes), its entity is replaced;
- alert entities take their availability from the server's retained status
  (``twitchwatch/v1/_server/status``, offline from its Last Will): an alert is only as current
  as the server that evaluates it.

Devices and sites are learned from the windows as they arrive, alerts from their retained states.
Each config is published once, when its entity first appears, and again when Home Assistant
announces itself (``online`` on ``<prefix>/status``) so a restarted Home Assistant rebuilds them.
An alert removed from the broker (empty retained state) removes its entity.

``node_id`` is ``twitchwatch_<user>`` so that a broker ACL can let each person's account write
discovery configs for that person only (server/broker_acl/). Templates are plain expressions
(subscripts, arithmetic, ``a if c else b``) that read the same in Jinja and Python, so the tests
evaluate exactly what Home Assistant will.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from server.errors import HomeAssistantError
from server.rules.registry import RULES
from twitchwatch import __version__
from twitchwatch.contract import (
    SERVER_STATUS_TOPIC,
    AlertState,
    ContractError,
    DeviceState,
    PayloadError,
    Rule,
    Severity,
    TopicKind,
    WindowMessage,
    alert_topic,
    check_id,
    device_filter,
    device_topic,
    encode_json,
    parse_topic,
)
from twitchwatch.mqtt_link import Message

DEFAULT_PREFIX = "homeassistant"
#: A rate goes stale (unavailable) after this many window lengths without a new window.
EXPIRE_AFTER_WINDOWS = 3
RATE_UNIT = "twitches/min"

_HA_ID = re.compile(r"[^A-Za-z0-9_-]")
_ORIGIN = {"name": "TwitchWatch", "sw": __version__}


def ha_id(text: str) -> str:
    """A Home Assistant topic-level id: letters, digits, ``_`` and ``-`` (``.`` becomes ``_``)."""
    return _HA_ID.sub("_", text)


def node_id(user: str) -> str:
    """The discovery ``node_id`` of one person's entities (ACLs scope discovery writes by it)."""
    return f"twitchwatch_{ha_id(user)}"


def check_prefix(prefix: str) -> str:
    if not prefix or any(c in prefix for c in "+#") or prefix.startswith(("/", "$")):
        raise HomeAssistantError(prefix)
    return prefix.rstrip("/")


def _sites(site: str) -> str:
    return f"value_json['sites']['{site}']"


def rate_template(site: str) -> str:
    """Twitches per minute of rest of one site in a windows payload; None without rest."""
    s = _sites(site)
    return (
        f"{{{{ {s}['twitches'] * 60 / {s}['rest_s'] "
        f"if '{site}' in value_json['sites'] and {s}['rest_s'] > 0 else None }}}}"
    )


#: ON while the alert fires; pending and resolved are OFF.
ALERT_TEMPLATE = "{{ 'ON' if value_json['state'] == 'firing' else 'OFF' }}"
#: An information alert's state as it is: pending, firing or resolved.
INFO_TEMPLATE = "{{ value_json['state'] }}"
#: The device's retained status payload -> online / offline.
AVAILABILITY_TEMPLATE = "{{ value_json['state'] }}"


def template_expression(template: str) -> str:
    """The expression inside ``{{ … }}`` (what the tests evaluate in Python)."""
    if not (template.startswith("{{ ") and template.endswith(" }}")):
        raise ValueError(f"not a single-expression template: {template!r}")
    return template[3:-3]


def _label(site: str) -> str:
    return site.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class Discovery:
    """A retained discovery config to publish; an empty payload removes the entity."""

    topic: str
    payload: bytes


@dataclass(slots=True)
class BridgeUpdate:
    """What one message asks of the bridge: configs to publish, problems to report."""

    publish: list[Discovery] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class HomeAssistantBridge:
    """Learns one person's devices, sites and alerts, and describes them to Home Assistant.

    Parameters
    ----------
    user : str
        Whose data (the ``<user>`` topic level).
    prefix : str
        Home Assistant's discovery prefix (its MQTT integration setting; default
        ``homeassistant``).
    """

    def __init__(self, user: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.user = check_id(user, "user")
        self.prefix = check_prefix(prefix)
        self.birth_topic = f"{self.prefix}/status"
        #: Besides the person's alerts (which the alert feed subscribes to).
        self.subscriptions: list[tuple[str, int]] = [
            (device_filter(TopicKind.WINDOWS, user), 1),
            (self.birth_topic, 1),
        ]
        self.rejected_windows = 0
        self._node = node_id(user)
        self._sensors: dict[tuple[str, str], Discovery] = {}
        self._alerts: dict[tuple[str, str], Discovery] = {}  # the entity's config, either kind

    @property
    def configs(self) -> list[Discovery]:
        """Every entity's current config."""
        return [*self._sensors.values(), *self._alerts.values()]

    def handle(self, message: Message) -> BridgeUpdate:
        update = BridgeUpdate()
        if message.topic == self.birth_topic:
            if message.payload.strip() == b"online":  # Home Assistant (re)started: tell it again
                update.publish.extend(self.configs)
            return update
        try:
            topic = parse_topic(message.topic)
        except ContractError:
            return update
        if topic.user != self.user:
            return update
        if topic.kind is TopicKind.WINDOWS and topic.device is not None:
            self._window(message, topic.device, update)
        elif topic.kind is TopicKind.ALERT and topic.rule is not None and topic.scope is not None:
            self._alert(message, Rule(topic.rule), topic.scope, update)
        return update

    # --- per-site rate sensors -----------------------------------------------------------------

    def _window(self, message: Message, device: str, update: BridgeUpdate) -> None:
        try:
            window = WindowMessage.from_payload(message.payload, user=self.user, device=device)
        except PayloadError as exc:
            self.rejected_windows += 1
            update.problems.append(f"Home Assistant: ignored a window from {device}: {exc}")
            return
        for site in sorted(window.sites):
            if (device, site) not in self._sensors:
                config = self.rate_sensor(device, site, window.duration_s)
                self._sensors[device, site] = config
                update.publish.append(config)

    def rate_sensor(self, device: str, site: str, window_s: float) -> Discovery:
        """The config of one (device, site) twitch-rate sensor."""
        object_id = ha_id(f"{device}_{site}_rate")
        unique_id = f"{self._node}_{object_id}"
        config: dict[str, Any] = {
            "name": f"{_label(site)} twitch rate",
            "unique_id": unique_id,
            "default_entity_id": f"sensor.{unique_id.lower().replace('-', '_')}",
            "state_topic": device_topic(self.user, device, TopicKind.WINDOWS),
            "value_template": rate_template(site),
            "unit_of_measurement": RATE_UNIT,
            "state_class": "measurement",
            "suggested_display_precision": 1,
            "expire_after": math.ceil(EXPIRE_AFTER_WINDOWS * window_s),
            "availability": [
                {
                    "topic": device_topic(self.user, device, TopicKind.STATUS),
                    "value_template": AVAILABILITY_TEMPLATE,
                    "payload_available": DeviceState.ONLINE.value,
                    "payload_not_available": DeviceState.OFFLINE.value,
                }
            ],
            "icon": "mdi:pulse",
            "qos": 1,
            "device": {
                "identifiers": [f"{self._node}_{ha_id(device)}"],
                "name": f"TwitchWatch {device}",
                "manufacturer": "TwitchWatch",
                "model": "Twitch sensor (edge agent)",
                "sw_version": __version__,
            },
            "origin": _ORIGIN,
        }
        return self._discovery("sensor", object_id, config)

    # --- per-alert problem sensors -------------------------------------------------------------

    def _alert(self, message: Message, rule: Rule, scope: str, update: BridgeUpdate) -> None:
        key = (rule.value, scope)
        if not message.payload:  # the alert's retained state was removed: so is its entity
            removed = self._alerts.pop(key, None)
            if removed is not None:
                update.publish.append(Discovery(removed.topic, b""))
            return
        try:
            state = AlertState.from_payload(message.payload)
        except PayloadError:
            return  # the alert feed reports it; one warning per message is enough
        info = state.severity is Severity.INFO
        config = self.info_sensor(rule, scope) if info else self.alert_sensor(rule, scope)
        known = self._alerts.get(key)
        if known is not None and known.topic == config.topic:
            return
        if known is not None:  # it crossed between information and a problem: replace it
            update.publish.append(Discovery(known.topic, b""))
        self._alerts[key] = config
        update.publish.append(config)

    def alert_sensor(self, rule: Rule, scope: str) -> Discovery:
        """The config of one alert's problem binary sensor (advisory, warning, urgent)."""
        unique_id, config = self._alert_config(rule, scope)
        config.update(
            {
                "default_entity_id": f"binary_sensor.{unique_id.lower().replace('-', '_')}",
                "device_class": "problem",
                "value_template": ALERT_TEMPLATE,
                "payload_on": "ON",
                "payload_off": "OFF",
            }
        )
        return self._discovery("binary_sensor", ha_id(f"alert_{rule.value}_{scope}"), config)

    def info_sensor(self, rule: Rule, scope: str) -> Discovery:
        """The config of an information alert: a plain sensor, never a problem."""
        unique_id, config = self._alert_config(rule, scope, suffix="_info")
        config.update(
            {
                "default_entity_id": f"sensor.{unique_id.lower().replace('-', '_')}",
                "value_template": INFO_TEMPLATE,
                "icon": "mdi:information-outline",
            }
        )
        return self._discovery("sensor", ha_id(f"alert_{rule.value}_{scope}_info"), config)

    def _alert_config(self, rule: Rule, scope: str, suffix: str = "") -> tuple[str, dict[str, Any]]:
        """What both kinds of alert entity share; each kind has its own unique id."""
        object_id = ha_id(f"alert_{rule.value}_{scope}{suffix}")
        unique_id = f"{self._node}_{object_id}"
        topic = alert_topic(self.user, rule, scope)
        where = "" if scope == "all" else f" ({_label(scope)})"
        config: dict[str, Any] = {
            "name": f"{RULES[rule].title}{where}",
            "unique_id": unique_id,
            "state_topic": topic,
            "json_attributes_topic": topic,
            "availability": [
                {
                    "topic": SERVER_STATUS_TOPIC,
                    "value_template": AVAILABILITY_TEMPLATE,
                    "payload_available": DeviceState.ONLINE.value,
                    "payload_not_available": DeviceState.OFFLINE.value,
                }
            ],
            "qos": 1,
            "device": {
                "identifiers": [self._node],
                "name": f"TwitchWatch alerts ({self.user})",
                "manufacturer": "TwitchWatch",
                "model": "Alerts",
                "sw_version": __version__,
            },
            "origin": _ORIGIN,
        }
        return unique_id, config

    def _discovery(self, component: str, object_id: str, config: dict[str, Any]) -> Discovery:
        topic = f"{self.prefix}/{component}/{self._node}/{object_id}/config"
        return Discovery(topic, encode_json(config))
