"""A person's own client: reporting a symptom or context from a terminal (``twitchwatch log``).

It stands on the ground floor only (the contract and the MQTT link), like the edge agent, and
nothing in the edge agent or the server imports it. The modules: ``config`` (person.toml),
``zone`` (whose clock ``--at`` reads), ``when`` (the ``--at`` shapes), ``words`` (report kinds
and sites as a person types them), ``outbox`` (reports that wait for the broker), ``client``
(sending them).
"""

from __future__ import annotations

from person.client import Delivery, PersonClient
from person.config import PersonConfig, default_config_path, default_outbox_path, load_person_config
from person.outbox import ReportOutbox, Waiting
from person.when import parse_when
from person.words import report_kind, report_site
from person.zone import system_zone, zone_label, zone_named

__all__ = [
    "Delivery",
    "PersonClient",
    "PersonConfig",
    "ReportOutbox",
    "Waiting",
    "default_config_path",
    "default_outbox_path",
    "load_person_config",
    "parse_when",
    "report_kind",
    "report_site",
    "system_zone",
    "zone_label",
    "zone_named",
]
