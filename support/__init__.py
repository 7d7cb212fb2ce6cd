"""Support shared by the tests and the benches (not installed): real brokers and databases on
loopback, and synthetic histories. ``tests/`` and ``bench/`` both import it; ``bench/`` never
imports ``tests/``."""
