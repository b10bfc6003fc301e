"""Telemetry tasks: retention, roll-ups (the digital-twin issue)."""
