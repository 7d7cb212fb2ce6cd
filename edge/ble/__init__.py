"""Bluetooth LE: one supervised session per sensor."""
