"""The roof: one module per ``twitchwatch`` command, each wiring the floors below for one job.

Every module has ``register(commands)``, which adds its sub-command (options, help, handler) to the
parser that :mod:`twitchwatch.cli` builds. Modules import what they run only inside their handler,
so ``twitchwatch --help`` stays fast. Nothing below the roof (contract, mqtt_link, edge, server,
firmware_sim) imports it; ruff's banned-api rules in each floor's ruff.toml enforce that.
"""

from __future__ import annotations

#: In the order ``twitchwatch --help`` lists them.
COMMAND_MODULES = (
    "demo",
    "analyze",
    "scenario",
    "sim",
    "edge",
    "alerts",
    "log",
    "broker_acl",
    "server",
    "report",
)
