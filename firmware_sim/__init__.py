"""Simulated sensors: physiology, one package per driver (``diy/``, ``polar_pmd/``: firmware and
Bumble peripheral), the fleet that starts them on a virtual radio, and a bleak backend."""
