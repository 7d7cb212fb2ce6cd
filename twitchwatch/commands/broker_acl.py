"""``twitchwatch broker-acl``: Mosquitto password and ACL files from one accounts file."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:
    acl = commands.add_parser(
        "broker-acl", help="write Mosquitto password and ACL files for devices, people, the server"
    )
    acl.add_argument(
        "accounts", type=Path, help="accounts file (deploy/mosquitto/accounts.example.toml)"
    )
    acl.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for acl and passwd (/etc/mosquitto/twitchwatch)",
    )
    acl.add_argument(
        "--rotate",
        action="append",
        default=[],
        metavar="USERNAME",
        help="give this account a new password (repeatable)",
    )
    acl.set_defaults(func=run)


async def run(args: argparse.Namespace) -> None:
    from server.broker_acl import load_deployment, plan_accounts, write_files

    accounts = plan_accounts(load_deployment(args.accounts))
    written = write_files(accounts, args.out, rotate=args.rotate)
    print(f"wrote {written.acl_path} and {written.password_path} ({len(accounts)} accounts)")
    for name in written.removed:
        print(f"removed account {name}")
    if not written.new_passwords:
        print("no new accounts: every password kept")
    else:
        print("new passwords, shown this once (give each to its device or person now):")
        width = max(map(len, written.new_passwords))
        for name, password in written.new_passwords.items():
            print(f"  {name:<{width}}  {password}")
    print("apply: sudo systemctl reload mosquitto (Mosquitto rereads both files on SIGHUP)")
