"""The demo's MQTT broker on a free loopback port: Mosquitto when it is installed, else amqtt in-process.

Mosquitto runs as a subprocess with its own config and directory; the embedded fallback (MQTT
3.1.1 only) runs in a thread with its own event loop, so sync and async callers can use it alike.
The tests and benches extend these (support/services.py: extra config, persistence, crashes).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, TypeAlias

from amqtt.broker import Broker

LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0


def free_port() -> int:
    """A loopback port that was free a moment ago; the OS picks it, so parallel runs don't clash."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no file)"


def mosquitto_path() -> str | None:
    return shutil.which("mosquitto")


class LocalBroker(abc.ABC):
    """A broker on a free loopback port that this process starts and stops."""

    name: ClassVar[str]
    mqtt5: ClassVar[bool]
    host: ClassVar[str] = LOOPBACK

    def __init__(self) -> None:
        self._port = free_port()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self._port}"

    @property
    @abc.abstractmethod
    def running(self) -> bool: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def close(self) -> None:
        """Stop, and remove whatever the broker left on disk."""
        self.stop()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()  # __exit__ won't run, and nothing may leak
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class MosquittoBroker(LocalBroker):
    """The `mosquitto` binary as a subprocess on a free loopback port, with its own config and dir."""

    name: ClassVar[str] = "mosquitto"
    mqtt5: ClassVar[bool] = True

    def __init__(self, *, own_session: bool = False, password_file: Path | None = None) -> None:
        found = mosquitto_path()
        # own_session: a terminal's Ctrl-C (SIGINT to the whole process group) does not reach
        # the broker, so its owner can still close its clients cleanly before stopping it.
        self.own_session = own_session
        # Accounts with passwords beside anonymous access (the demo's person logs in with one).
        self.password_file = password_file
        if found is None:
            raise FileNotFoundError("mosquitto is not on PATH")
        self._binary = found
        super().__init__()
        self._dir = Path(tempfile.mkdtemp(prefix="twitchwatch-mosquitto-"))
        self.config_path = self._dir / "mosquitto.conf"
        self.log_path = self._dir / "mosquitto.log"
        self._stderr_path = self._dir / "stderr.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.config_path.write_text("\n".join([*self._config_lines(), ""]))

    def _config_lines(self) -> list[str]:
        # Started as root, Mosquitto drops to user "mosquitto", which cannot write the log into
        # our 0700 temp dir; "user root" keeps it as the caller. Ignored for non-root.
        user = "user root" if os.geteuid() == 0 else ""
        return [
            user,
            f"listener {self._port} {LOOPBACK}",
            "allow_anonymous true",
            f"password_file {self.password_file}" if self.password_file else "",
            # The default of 1000 silently drops messages for a slow or offline subscriber.
            "max_queued_messages 100000",
            f"log_dest file {self.log_path}",
        ]

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"mosquitto already running on port {self._port}")
        with self._stderr_path.open("ab") as out:
            self._proc = subprocess.Popen(
                [self._binary, "-c", str(self.config_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=self.own_session,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if _port_accepts(self.host, self._port):
                return
            time.sleep(0.02)
        exit_code = self._proc.poll()
        self._proc.kill()
        self._proc.wait()
        self._proc = None
        problem = (
            f"exited with code {exit_code}"
            if exit_code is not None
            else f"did not accept connections within {START_TIMEOUT_S} s"
        )
        raise RuntimeError(
            f"mosquitto on {self.url} {problem}\n"
            f"--- log ---\n{_tail(self.log_path)}\n--- stderr ---\n{_tail(self._stderr_path)}"
        )

    def stop(self) -> None:
        """Clean shutdown (SIGTERM), which saves any persistence database; SIGKILL if it hangs."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


class EmbeddedBroker(LocalBroker):
    """Fallback when Mosquitto is missing: amqtt (MQTT 3.1.1 only) in a thread with its own loop.

    Its own loop keeps the broker apart from the test's loop, so sync and async tests can use it.
    State is in memory only: `restart()` loses sessions and queued messages. amqtt also marks every
    session anonymous when anonymous access is allowed and drops it on disconnect, so
    clean_session=False does not queue messages for an offline client.
    """

    name: ClassVar[str] = "amqtt"
    mqtt5: ClassVar[bool] = False

    def __init__(self) -> None:
        super().__init__()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Broker | None = None

    def _config(self) -> dict[str, Any]:
        # amqtt's default listener binds 0.0.0.0:1883, and its default plugins log every packet and
        # publish $SYS topics. Name the listener and the plugins explicitly.
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{LOOPBACK}:{self._port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }

    @property
    def running(self) -> bool:
        return self._broker is not None

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"amqtt broker already running on port {self._port}")
        # amqtt and its state-machine library log every connection and transition at INFO.
        for noisy in ("amqtt", "transitions"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(loop,), name=f"amqtt-broker-{self._port}", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._broker = asyncio.run_coroutine_threadsafe(self._start(), loop).result(
                timeout=START_TIMEOUT_S
            )
        except BaseException:
            self._stop_loop()
            raise

    async def _start(self) -> Broker:
        broker = Broker(self._config())
        await broker.start()
        return broker

    async def _shutdown(self, broker: Broker) -> None:
        await broker.shutdown()
        # Client handler tasks can outlive shutdown(); cancel them so the loop closes cleanly.
        current = asyncio.current_task()
        leftovers = [task for task in asyncio.all_tasks() if task is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is None:
            return
        try:
            if self._broker is not None:
                asyncio.run_coroutine_threadsafe(self._shutdown(self._broker), self._loop).result(
                    timeout=STOP_TIMEOUT_S
                )
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=STOP_TIMEOUT_S)
        self._loop = self._thread = self._broker = None


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


MqttBroker: TypeAlias = MosquittoBroker | EmbeddedBroker


def make_broker(*, own_session: bool = False, password_file: Path | None = None) -> MqttBroker:
    """Mosquitto if installed (MQTT 5), else the embedded 3.1.1 broker. Not started.

    ``password_file``: accounts Mosquitto checks for clients that log in (anonymous clients are
    still let in); the embedded broker takes anonymous clients only.
    """
    if mosquitto_path() is not None:
        return MosquittoBroker(own_session=own_session, password_file=password_file)
    return EmbeddedBroker()
