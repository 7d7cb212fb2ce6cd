"""Polar Verity Sense and H10 over Polar Measurement Data: control point (protocol.py), data frames
(frames.py) and the driver (driver.py)."""
