"""Broker accounts for a deployment: one per device, one per person, the server, Home Assistant.

The deployed broker binds each session to its account (``use_username_as_clientid``), so every
process needs its own account: each server of a share group, each device.

Mosquitto's ``pattern`` ACLs substitute one whole topic level (``%u`` or ``%c``), and a TwitchWatch
device topic needs two (``twitchwatch/v1/<user>/<device>/…``), so every account gets an explicit
``user`` block instead. From an accounts file (TOML)::

    server = "twitchwatch-server"         # the server's account; a share group lists one each:
                                          # server = ["tw-server-1", "tw-server-2"]
    homeassistant = "homeassistant"       # optional: Home Assistant's own account

    [people.alice]
    devices = ["laptop", "pi-bedroom"]    # each becomes account dev-alice-laptop, ...
    homeassistant = true                  # alice's data may be shown in Home Assistant

:func:`write_files` writes the ACL file and the password file. New accounts get a random password,
returned once to be shown once; accounts already in the password file keep theirs (unless
rotated) and accounts no longer listed are removed. Passwords are hashed by ``mosquitto_passwd -U``
from a private temporary file, never passed on a command line where ``ps`` would show them.

Beside ``acl`` and ``passwd``, :func:`write_files` writes ``people``: which accounts are people
(``<username> <user>`` per line). The web view lets only those log in, with their broker password
checked against ``passwd``; device, server and Home Assistant accounts cannot.

``deployment`` reads the accounts file, ``accounts`` grants each account its topics, ``files``
renders and writes the files, ``passwords`` has ``mosquitto_passwd`` hash the new passwords.
"""

from server.broker_acl.accounts import Access, Account, Grant, Role, device_username, plan_accounts
from server.broker_acl.deployment import (
    DEFAULT_SERVER_ACCOUNT,
    Deployment,
    Person,
    load_deployment,
)
from server.broker_acl.files import (
    ACL_FILE,
    PASSWORD_FILE,
    PEOPLE_FILE,
    WrittenFiles,
    render_acl,
    render_people,
    write_files,
)
from server.broker_acl.passwords import mosquitto_passwd_path

__all__ = [
    "ACL_FILE",
    "DEFAULT_SERVER_ACCOUNT",
    "PASSWORD_FILE",
    "PEOPLE_FILE",
    "Access",
    "Account",
    "Deployment",
    "Grant",
    "Person",
    "Role",
    "WrittenFiles",
    "device_username",
    "load_deployment",
    "mosquitto_passwd_path",
    "plan_accounts",
    "render_acl",
    "render_people",
    "write_files",
]
