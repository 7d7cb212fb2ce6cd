"""The ``twitchwatch`` command line: parses, dispatches to one module of
:mod:`twitchwatch.commands`, and is the only ``except TwitchWatchError``: such errors become one
line on stderr and the exit code of their category (:data:`EXIT_CODES`).

Exit codes: 0 done; 1 a runtime failure (a broker or database that refuses or does not answer);
2 a usage or input error (the command line, a config, a file); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import sys

import twitchwatch.one_core  # noqa: F401  (before anything imports numpy)
from twitchwatch import __version__
from twitchwatch.commands import COMMAND_MODULES
from twitchwatch.commands.options import EXIT_INTERRUPTED
from twitchwatch.errors import Category, TwitchWatchError

EXIT_RUNTIME, EXIT_USAGE = 1, 2
EXIT_CODES = {Category.RUNTIME: EXIT_RUNTIME, Category.INPUT: EXIT_USAGE}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Bumble logs a benign error when a pending HCI command is answered after shutdown began.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL if not args.verbose else logging.DEBUG)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(args.func(args)) or 0
        return EXIT_INTERRUPTED
    except TwitchWatchError as exc:
        print(f"twitchwatch: {exc}", file=sys.stderr)
        return EXIT_CODES[exc.category]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twitchwatch",
        description="Counts muscle twitches per body site from wearable sensors. "
        "Not a diagnostic device.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"twitchwatch {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"twitchwatch.commands.{name}").register(commands)
    return parser
