"""The server: ingest windows and reports from MQTT, store them, evaluate the rules, publish alerts.

``service`` runs it (``twitchwatch server``); ``ingest`` validates, ``store`` keeps (SQLite or
PostgreSQL), ``rules`` and ``alerts`` decide (pure functions), ``evaluate`` joins them.
``errors`` holds the typed errors the package raises.
"""
