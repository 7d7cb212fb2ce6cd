"""One line and the right exit code, from separate processes as a person or systemd runs them:
0 done, 1 a runtime failure, 2 a usage or input error, 130 Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.services import MosquittoBroker, free_port
from twitchwatch import __version__
from twitchwatch.errors import Category, TwitchWatchError

TWITCHWATCH = [sys.executable, "-m", "twitchwatch"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TWITCHWATCH, *args], capture_output=True, text=True, timeout=timeout)


def one_line(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("twitchwatch: ") and done.stderr.count("\n") == 1, done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr
    return done.stderr


def test_version() -> None:
    done = run("--version")
    assert (done.returncode, done.stdout) == (0, f"twitchwatch {__version__}\n")


def test_input_errors_exit_2_and_runtime_failures_exit_1() -> None:
    from edge.errors import BrokerLoginError, ConfigError, OutboxError, RecordingError
    from server.errors import BrokerAclError, RuleConfigError, StoreError, StoreUnavailable
    from twitchwatch.cli import EXIT_CODES
    from twitchwatch.errors import BrokerUnreachableError, BrokerUrlError, CredentialError, IdError

    inputs = [ConfigError, RecordingError, BrokerAclError, RuleConfigError, BrokerUrlError]
    inputs += [CredentialError, IdError]
    runtime = [BrokerLoginError, OutboxError, StoreError, StoreUnavailable, BrokerUnreachableError]
    assert {EXIT_CODES[cls.category] for cls in inputs} == {2}
    assert {EXIT_CODES[cls.category] for cls in runtime} == {1}
    assert TwitchWatchError.category is Category.RUNTIME  # a class that says nothing: exit 1


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_sim_on_a_busy_port_is_one_line(busy_port: int) -> None:
    done = run("sim", "--hci", f"127.0.0.1:{busy_port}", "--seconds", "1")
    one_line(done, 2, f"cannot serve the virtual radio on 127.0.0.1:{busy_port}: Address already")


def test_non_utf8_accounts_and_rules_files_are_one_line(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_bytes('server = "café"\n'.encode("latin-1"))
    one_line(run("broker-acl", str(accounts), "--out", str(tmp_path)), 2, "not UTF-8 text")
    rules = tmp_path / "rules.toml"
    rules.write_bytes("# café\n".encode("latin-1"))
    done = run(
        "report", "--user", "a", "--out", str(tmp_path / "r.html"), "--rules", str(rules),
        "--db", f"sqlite:///{tmp_path / 'none.db'}",
    )  # fmt: skip
    one_line(done, 2, "rules config", "not UTF-8 text")


def test_a_broker_that_never_answers_the_handshake_exits_1(busy_port: int) -> None:
    """The port takes the TCP connection (the listening socket's backlog) and says nothing."""
    done = run(
        "alerts", "--broker", f"mqtt://127.0.0.1:{busy_port}", "--user", "alice",
        "--connect-timeout", "1.5",
    )  # fmt: skip
    one_line(done, 1, "took the connection but did not answer the MQTT handshake within 1.5 s")


def test_ca_file_missing_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"mqtts://alice:s3cret@127.0.0.1:{free_port()}?ca={tmp_path / 'ca.pem'}"
    err = one_line(run("alerts", "--broker", url, "--user", "alice"), 2, "ca.pem: no such file")
    assert "s3cret" not in err


def wait_for_line(process: subprocess.Popen[str], words: str, within_s: float = 30) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if words in line:
            return
        if not line and process.poll() is not None:
            break
    pytest.fail(f"never printed {words!r}: {process.stderr.read() if process.stderr else ''}")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_the_server_stops_cleanly_on_a_signal_and_says_which(
    mosquitto_broker: MosquittoBroker, tmp_path: Path, signum: int, code: int
) -> None:
    env = {**os.environ, "TWITCHWATCH_DB": f"sqlite:///{tmp_path / 'tw.db'}"}
    server = subprocess.Popen(
        [*TWITCHWATCH, "server", "--broker", mosquitto_broker.url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        wait_for_line(server, "Ctrl-C to stop")
        server.send_signal(signum)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == code, err
    assert "stopped: 0 messages" in out and "Traceback" not in err


def test_edge_run_exits_130_after_its_clean_stop_on_ctrl_c(tmp_path: Path) -> None:
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[ble]\nbackend = "sim"\nsim_hci = "127.0.0.1:{free_port()}"\n'
        '[[sensor]]\nname = "TW-0001"\nsite = "left_calf"\n'
    )
    agent = subprocess.Popen(
        [*TWITCHWATCH, "edge", "run", "--config", str(config), "--view", "log"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Its first log line says it is looking for the sensor: past its imports, signals handled.
        assert agent.stderr is not None
        first = agent.stderr.readline()
        assert "TW-0001" in first, first
        agent.send_signal(signal.SIGINT)
        _, rest = agent.communicate(timeout=30)
        err = first + rest
    finally:
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 130, err
    assert "final: 0 of 1 sensors streamed" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["server", "report"])
def test_a_broken_database_url_is_one_line_without_the_password(
    command: str, tmp_path: Path
) -> None:
    url = "postgresql://tw:s3cret@[::1/tw"
    args = {
        "server": ["--broker", f"mqtt://127.0.0.1:{free_port()}"],
        "report": ["--user", "a", "--out", str(tmp_path / "r.html")],
    }
    err = one_line(
        run(command, *args[command], "--db", url),
        2,
        "database URL 'postgresql://***@[::1/tw'",
        "Invalid IPv6 URL",
    )
    assert "s3cret" not in err
