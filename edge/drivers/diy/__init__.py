"""The DIY reference sensor: the TwitchWatch GATT profile (protocol.py) and its driver (driver.py)."""
