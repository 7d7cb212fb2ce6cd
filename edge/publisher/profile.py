"""The person's profile from the edge config: published only when the config's zone changed.

``[mqtt] tz`` in the edge config is one way to set the person's zone; the web view is another,
and it also sets their display name. Publishing ``{"v": 1, "tz": ...}`` on every connect would
undo both, so the edge publishes only when the config's zone differs from the last one it
published (remembered in the outbox's SQLite file), and then merged into the retained profile:
every other field (the name, fields of a later v1) is kept. A profile changed from elsewhere
since stays as it is until the config's zone changes again.

When the broker holds no profile at all (a new person, or a broker that lost its retained
messages) the edge publishes its zone. So does an old device account without read access to the
profile topic (it cannot see one): `twitchwatch broker-acl` grants it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from edge.outbox import Outbox
from twitchwatch.contract import PayloadError, Profile
from twitchwatch.contract.payload import encode_json
from twitchwatch.mqtt_link import Message

log = logging.getLogger(__name__)


class ProfileSync:
    """Decides, once per connection, whether the config's zone must be published, and what."""

    def __init__(self, profile: Profile, outbox: Outbox) -> None:
        self.profile, self.outbox = profile, outbox
        self._seen: tuple[int, dict[str, Any]] | None = None  # (connection, the profile there)

    def on_message(self, message: Message) -> None:
        """The retained profile (on subscribe) or a change to it (from the web view...)."""
        if not message.payload:
            self._seen = None  # cleared
            return
        try:
            Profile.from_payload(message.payload)  # the contract's checks
        except PayloadError as exc:
            log.warning("ignoring the person's retained profile: %s", exc)
            return
        self._seen = (message.connection, json.loads(message.payload))

    def due(self, connection: int) -> bytes | None:
        """What to publish on this connection (after its retained messages came), or None."""
        tz, published = self.profile.tz, self.outbox.published_tz
        held = self._seen[1] if self._seen is not None and self._seen[0] == connection else None
        if held is not None and held.get("tz", "UTC") == tz:
            if published != tz:
                self.outbox.mark_tz_published(tz)  # already so: nothing to send
            return None
        if held is not None and published == tz:
            return None  # changed elsewhere since this edge published: that choice stands
        return encode_json({**(held or {"v": 1}), "tz": tz})

    def published(self) -> None:
        self.outbox.mark_tz_published(self.profile.tz)
