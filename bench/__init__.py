"""Measuring tools around the detector: scoring against ground truth, peer baselines, real records."""
