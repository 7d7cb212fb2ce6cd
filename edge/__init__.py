"""The edge agent: BLE sessions and sensor drivers, timelines, and (next) the detector."""
