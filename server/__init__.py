"""The server: ingest, store, rules, alerts (arrives with the MQTT issue)."""
