"""Simulation tasks (the simulation issue)."""
