"""The edge agent: BLE sessions and sensor drivers, timelines, the detector, windows, the uplink."""
