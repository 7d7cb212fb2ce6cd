"""The server's store: SQLite (WAL, the default) or PostgreSQL, one schema, exactly-once ingest.

    store = open_store("sqlite:///twitchwatch.db")        # or postgresql://user@host/dbname
    with store.transaction(users=["alice"]) as tx:       # locks alice's row until COMMIT
        result = tx.add_windows(windows, received=now)
    history = store.load_history("alice", since_day, until)

Every method of :class:`Tx` runs inside the transaction that opened it; the methods on
:class:`Store` are the same operations, each in a transaction of its own. Driver errors leave as
:class:`StoreUnavailable` (retry later), :class:`StoreDataError` (the database refuses
this data) or :class:`StoreError` (the database cannot be used), each one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Self

from server.errors import SchemaVersionError, StoreDataError, StoreError, StoreUnavailable
from server.model import AlertRecord, History
from server.store.backend import Backend, backend_for, one_line, redact
from server.store.reads import ReadTx, TodayRow
from server.store.refusals import RefusalsResult, RefusedWindow
from server.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from server.store.tx import Tx
from server.store.windows import DeviceAckState, Outcome, WindowsResult
from twitchwatch.contract import AlertEvent, Profile, Report, WindowMessage

__all__ = [
    "DeviceAckState",
    "Outcome",
    "ReadTx",
    "RefusalsResult",
    "RefusedWindow",
    "Store",
    "StoreDataError",
    "StoreError",
    "StoreUnavailable",
    "TodayRow",
    "Tx",
    "WindowsResult",
    "open_store",
]


def open_store(url: str, *, read_only: bool = False) -> Store:
    """Connect, create the tables if missing, check the schema version. StoreError if not usable.

    ``read_only`` (a report): create nothing, take no write lock; the database must exist.
    """
    backend = backend_for(url, read_only=read_only)
    backend.connect()
    store = Store(backend)
    try:
        if read_only:
            store.check_schema()
        else:
            store.create_schema()
    except BaseException:
        store.close()
        raise
    return store


class Store:
    """A database holding TwitchWatch's data. Use from one thread at a time."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return redact(self.backend.url)

    def create_schema(self) -> None:
        with self.transaction():
            self.backend.lock_schema()
            for statement in TABLES:
                self.backend.execute(statement)
            rows = self.backend.execute("SELECT version FROM schema_version")
            if not rows:
                self.backend.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            elif rows[0][0] > SCHEMA_VERSION:
                raise SchemaVersionError(self.url, rows[0][0], SCHEMA_VERSION)
            else:
                self._migrate(rows[0][0])

    def _migrate(self, version: int) -> None:
        """Bring a database written by an older TwitchWatch up to :data:`SCHEMA_VERSION`."""
        while version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version]:
                self.backend.execute(statement)
            version += 1
            self.backend.execute("UPDATE schema_version SET version = ?", (version,))

    def check_schema(self) -> None:
        """A database this TwitchWatch can read (read-only stores create nothing)."""
        try:
            with self.transaction():
                rows = self.backend.execute("SELECT version FROM schema_version")
        except StoreError as exc:
            raise StoreError(self.url, f"not a TwitchWatch database ({exc.problem})") from exc
        if not rows:
            raise StoreError(self.url, "not a TwitchWatch database (no schema version)")
        if rows[0][0] > SCHEMA_VERSION:
            raise SchemaVersionError(self.url, rows[0][0], SCHEMA_VERSION)

    @contextmanager
    def transaction(self, users: Iterable[str] = ()) -> Iterator[Tx]:
        """BEGIN, lock ``users``' rows (created if missing), yield a Tx; COMMIT, or ROLLBACK."""
        with self._transaction(read_only=False, users=users) as tx:
            yield tx

    @contextmanager
    def reading(self) -> Iterator[ReadTx]:
        """A read-only transaction: one consistent view, no write lock (the web view, reports)."""
        with self._transaction(read_only=True) as tx:
            assert isinstance(tx, ReadTx)
            yield tx

    @contextmanager
    def _transaction(self, *, read_only: bool, users: Iterable[str] = ()) -> Iterator[Tx]:
        backend = self.backend
        try:
            backend.ensure_connected()
            if read_only:
                backend.begin_read()
                tx: Tx = ReadTx(backend)
            else:
                backend.begin()
                tx = Tx(backend)
                tx.lock_users(list(users))
            yield tx
            backend.commit()
        except BaseException as exc:
            try:
                backend.rollback()
            except backend.transient_errors + backend.fatal_errors:
                pass  # the connection is gone; ensure_connected() replaces it next time
            typed = self._typed(exc)
            if typed is exc:
                raise
            raise typed from exc

    def _typed(self, exc: BaseException) -> BaseException:
        """A driver error as the store's own type; anything else unchanged."""
        backend = self.backend
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, backend.data_errors):
            return StoreDataError(self.url, one_line(exc))
        if isinstance(exc, backend.transient_errors):
            return StoreUnavailable(self.url, one_line(exc))
        if isinstance(exc, backend.fatal_errors):
            return StoreError(self.url, one_line(exc))
        return exc

    def close(self) -> None:
        self.backend.close()

    def check_identity(self) -> None:
        """DatabaseReplacedError if the SQLite file was deleted or replaced since it was opened."""
        self.backend.check_identity()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the Tx operations, one transaction each ------------------------------------------------

    def store_windows(
        self, windows: Sequence[WindowMessage], received: datetime | None = None
    ) -> WindowsResult:
        with self.transaction(users={w.user for w in windows}) as tx:
            return tx.add_windows(windows, received or datetime.now(UTC))

    def refused_windows(self, user: str) -> dict[str, int]:
        """``{reason: windows}`` refused for good from ``user``'s devices."""
        with self.transaction() as tx:
            return tx.refused_windows(user)

    def store_report(self, user: str, report: Report, received: datetime | None = None) -> bool:
        with self.transaction(users=[user]) as tx:
            return tx.add_report(user, report, received or datetime.now(UTC))

    def set_profile(self, user: str, profile: Profile, received: datetime | None = None) -> bool:
        with self.transaction(users=[user]) as tx:
            return tx.set_profile(user, profile, received or datetime.now(UTC))

    def profile_tz(self, user: str) -> str:
        with self.transaction() as tx:
            return tx.profile_tz(user)

    def load_history(self, user: str, since_day: date, until: datetime) -> History:
        with self.transaction() as tx:
            return tx.load_history(user, since_day, until)

    def load_alerts(self, user: str) -> list[AlertRecord]:
        with self.transaction() as tx:
            return tx.load_alerts(user)

    def all_alerts(self) -> list[AlertRecord]:
        with self.transaction() as tx:
            return tx.all_alerts()

    def save_alert(self, record: AlertRecord) -> None:
        with self.transaction(users=[record.user]) as tx:
            tx.save_alert(record)

    def add_events(self, user: str, events: Sequence[AlertEvent]) -> list[AlertEvent]:
        with self.transaction(users=[user]) as tx:
            return tx.add_events(user, events)

    def alert_events(self, user: str, since: datetime, until: datetime) -> list[AlertEvent]:
        with self.transaction() as tx:
            return tx.alert_events(user, since, until)

    def unpublished_events(self) -> list[tuple[str, AlertEvent]]:
        with self.transaction() as tx:
            return tx.unpublished_events()

    def mark_published(self, user: str, events: Sequence[AlertEvent]) -> None:
        with self.transaction() as tx:
            tx.mark_published(user, events)

    def device_acks(self) -> list[DeviceAckState]:
        with self.transaction() as tx:
            return tx.device_acks()

    def device_acks_of(self, devices: Iterable[tuple[str, str]]) -> list[DeviceAckState]:
        with self.transaction() as tx:
            return tx.device_acks_of(devices)

    def recent_device_acks(self, since: datetime) -> list[tuple[DeviceAckState, datetime]]:
        with self.transaction() as tx:
            return tx.recent_device_acks(since)

    def count_reject(self, reason: str, detail: str, now: datetime | None = None) -> None:
        self.count_rejects({reason: (1, detail)}, now)

    def count_rejects(
        self, counts: Mapping[str, tuple[int, str]], now: datetime | None = None
    ) -> None:
        with self.transaction() as tx:
            tx.count_rejects(counts, now or datetime.now(UTC))

    def rejects(self) -> dict[str, int]:
        with self.transaction() as tx:
            return tx.rejects()

    def users_with_data(self) -> list[str]:
        with self.transaction() as tx:
            return tx.users_with_data()

    def dirty_users(self) -> list[str]:
        with self.transaction() as tx:
            return tx.dirty_users()

    def open_alert_users(self) -> list[tuple[str, datetime | None]]:
        with self.transaction() as tx:
            return tx.open_alert_users()

    def mark_stored(self, users: Sequence[str], at: datetime) -> None:
        with self.transaction() as tx:
            tx.mark_stored(users, at)
