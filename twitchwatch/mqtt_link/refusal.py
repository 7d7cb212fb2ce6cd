"""The broker's answers a caller acts on: a refused CONNECT, and the PUBACK code of an ACL refusal."""

from __future__ import annotations

from dataclasses import dataclass

#: MQTT 5 CONNACK reason codes that refuse the credentials (3.1.1's return codes 4 and 5 arrive
#: as these too): retrying with the same username and password cannot succeed. Mosquitto answers
#: a wrong password with "Not authorized", not "Bad user name or password".
LOGIN_REFUSED_CODES = frozenset({0x86, 0x87})  # Bad user name or password, Not authorized
#: PUBACK reason code of a publish the broker's ACL refuses (MQTT 5 only; 3.1.1 drops it silently).
NOT_AUTHORIZED = 0x87


@dataclass(frozen=True, slots=True)
class ConnectRefusal:
    """The broker's answer to CONNECT when it refuses: reason code and its words."""

    code: int  # MQTT 5 reason code (paho maps 3.1.1 return codes onto these)
    reason: str  # "Not authorized"

    @property
    def bad_login(self) -> bool:
        """The username or password was refused (as opposed to a busy or unhappy broker)."""
        return self.code in LOGIN_REFUSED_CODES
