"""Discrete-event simulation of a layout's flow network (CONTRACT.md §4).

Pure Python + numpy, no Django: `runner.simulate()` is the entry point, `runner.run_replication()` and
`runner.combine()` let callers fan replications out over workers.
"""
