"""The simulated sensor: physiology, firmware, Bumble peripheral and a bleak backend."""
