"""The store's tables, in SQL that SQLite and PostgreSQL both accept as written.

Portable choices: times are fixed-width UTC text (``2026-11-21T10:00:00.000000Z``) and days
``YYYY-MM-DD``, so text order is time order on both engines; seconds are DOUBLE PRECISION (REAL
affinity on SQLite, float8 on PostgreSQL); flags are INTEGER 0/1. ``user`` is reserved in
PostgreSQL, hence ``user_id`` (and ``device_id`` beside it); other contract words (``site``,
``twitches``, ``rest_s``…) keep their spelling.
"""

from __future__ import annotations

#: Bumped whenever a table changes; a database written by a newer TwitchWatch is refused, an
#: older one is brought up to date by the steps in :data:`MIGRATIONS`.
SCHEMA_VERSION = 4

TABLES: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER NOT NULL
    )""",
    # One row per user: the latest event time stored (window end or report time) is the time the
    # rules evaluate at; dirty = 1 while stored data has not been evaluated yet (survives a crash
    # between the ingest commit and the evaluation); evaluated_utc: the last time the rules ran
    # at, so a backlog is evaluated day by day from there; stored_utc: when a server last stored
    # the user's data, by its wall clock (the tick defers such a user: server/tick_deferral.py;
    # in the database, so every server of a share group knows). Its row is also the per-user lock.
    """CREATE TABLE IF NOT EXISTS users (
        user_id TEXT PRIMARY KEY,
        latest_utc TEXT,
        dirty INTEGER NOT NULL DEFAULT 0,
        evaluated_utc TEXT,
        stored_utc TEXT
    )""",
    # A device belongs to one user; device_id is ``user/device`` (ids are per user, issue 15),
    # in windows and window_sites too. acked_seq: every seq <= it is stored (what the retained
    # DeviceAck says); max_seq: the highest seq stored, so a gap is visible.
    """CREATE TABLE IF NOT EXISTS devices (
        device_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        acked_seq BIGINT NOT NULL DEFAULT 0,
        max_seq BIGINT NOT NULL DEFAULT 0,
        status TEXT,
        status_utc TEXT
    )""",
    # Every seq the server has dealt with. refused: NULL for a stored window; for a window
    # refused for good, the reason (its start and end are then '': it may have had none), so the
    # contiguous ack passes it and the person is told (see contract/windows.py).
    """CREATE TABLE IF NOT EXISTS windows (
        device_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        user_id TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        received_utc TEXT NOT NULL,
        refused TEXT,
        PRIMARY KEY (device_id, seq)
    )""",
    # Keyed by time, not seq: an edge that lost its outbox replays a window under a new seq, and
    # the key keeps it from being counted twice. seq says which message brought the row.
    """CREATE TABLE IF NOT EXISTS window_sites (
        device_id TEXT NOT NULL,
        site TEXT NOT NULL,
        start_utc TEXT NOT NULL,
        end_utc TEXT NOT NULL,
        seq BIGINT NOT NULL,
        user_id TEXT NOT NULL,
        twitches BIGINT NOT NULL,
        cramps BIGINT NOT NULL,
        rest_s DOUBLE PRECISION NOT NULL,
        active_s DOUBLE PRECISION NOT NULL,
        gap_s DOUBLE PRECISION NOT NULL,
        amp_median DOUBLE PRECISION,
        unit TEXT NOT NULL,
        PRIMARY KEY (device_id, site, start_utc)
    )""",
    # Sums of the window_sites rows of each of the person's days (a window counts on the local
    # day it starts, in the zone of their profile; UTC without one), kept in the transaction
    # that inserts them: what the rules read. A new zone re-cuts them from window_sites.
    """CREATE TABLE IF NOT EXISTS daily_site (
        user_id TEXT NOT NULL,
        site TEXT NOT NULL,
        day TEXT NOT NULL,
        twitches BIGINT NOT NULL,
        cramps BIGINT NOT NULL,
        rest_s DOUBLE PRECISION NOT NULL,
        active_s DOUBLE PRECISION NOT NULL,
        gap_s DOUBLE PRECISION NOT NULL,
        windows BIGINT NOT NULL,
        PRIMARY KEY (user_id, site, day)
    )""",
    # site '' when the report names none; report_id: the sender's optional id (a correction
    # with the same id replaces the row): a primary key column cannot be NULL on PostgreSQL,
    # and NULLs would never conflict on SQLite.
    """CREATE TABLE IF NOT EXISTS reports (
        user_id TEXT NOT NULL,
        t_utc TEXT NOT NULL,
        kind TEXT NOT NULL,
        site TEXT NOT NULL,
        value DOUBLE PRECISION,
        note TEXT,
        received_utc TEXT NOT NULL,
        report_id TEXT,
        PRIMARY KEY (user_id, t_utc, kind, site)
    )""",
    """CREATE TABLE IF NOT EXISTS alerts (
        user_id TEXT NOT NULL,
        rule TEXT NOT NULL,
        scope TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        since_utc TEXT NOT NULL,
        pending_since_utc TEXT,
        last_notified_utc TEXT,
        acknowledged INTEGER NOT NULL,
        version BIGINT NOT NULL,
        message TEXT NOT NULL,
        evidence TEXT NOT NULL,
        context TEXT NOT NULL,
        stage INTEGER NOT NULL DEFAULT 0,
        folded_into TEXT,
        resolved_by_person INTEGER NOT NULL DEFAULT 0,
        asked_utc TEXT,
        no_data_utc TEXT,
        PRIMARY KEY (user_id, rule, scope)
    )""",
    # The key makes a transition impossible to record twice, whoever evaluates; published = 0
    # until the broker acknowledged it, so a crash in between republishes it at the next start.
    """CREATE TABLE IF NOT EXISTS alert_events (
        user_id TEXT NOT NULL,
        rule TEXT NOT NULL,
        scope TEXT NOT NULL,
        version BIGINT NOT NULL,
        transition TEXT NOT NULL,
        t_utc TEXT NOT NULL,
        payload TEXT NOT NULL,
        published INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, rule, scope, version, transition)
    )""",
    """CREATE INDEX IF NOT EXISTS alert_events_unpublished
        ON alert_events (published) WHERE published = 0""",
    # The person's profile (twitchwatch/v1/<user>/profile): the zone their days and dates follow.
    """CREATE TABLE IF NOT EXISTS profiles (
        user_id TEXT PRIMARY KEY,
        tz TEXT NOT NULL,
        updated_utc TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS rejects (
        reason TEXT PRIMARY KEY,
        count BIGINT NOT NULL,
        last_detail TEXT,
        last_utc TEXT
    )""",
)

#: What brings a database of each older version one step up, in order; run in the transaction
#: that creates the schema, so a crash leaves the old version whole. ``CREATE TABLE IF NOT
#: EXISTS`` in :data:`TABLES` has already made any new table by then; these alter the old ones.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 1 -> 2 (issue 12): alerts learn their stage (spread escalates within a severity), folding
    # (inhibition), a resolution by the person, the question asked about a symptom not
    # reported again, and the "no measurements" notice.
    1: (
        "ALTER TABLE alerts ADD COLUMN stage INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE alerts ADD COLUMN folded_into TEXT",
        "ALTER TABLE alerts ADD COLUMN resolved_by_person INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE alerts ADD COLUMN asked_utc TEXT",
        "ALTER TABLE alerts ADD COLUMN no_data_utc TEXT",
    ),
    # 2 -> 3 (issue 15): the ack means "dealt with": windows refused for good are recorded;
    # reports may carry the sender's id, so that a correction replaces the report it corrects.
    2: (
        "ALTER TABLE windows ADD COLUMN refused TEXT",
        "ALTER TABLE reports ADD COLUMN report_id TEXT",
        # Device ids are per user: the store keys a device as ``user/device``.
        "UPDATE devices SET device_id = user_id || '/' || device_id",
        "UPDATE windows SET device_id = user_id || '/' || device_id",
        "UPDATE window_sites SET device_id = user_id || '/' || device_id",
    ),
    # 3 -> 4: when a server last stored a user's data, shared by a share group's servers.
    3: ("ALTER TABLE users ADD COLUMN stored_utc TEXT",),
}
