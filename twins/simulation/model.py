"""The simulation's input: a frozen, Django-free description of a layout's flow network."""
from __future__ import annotations

from dataclasses import dataclass

FLOW_KINDS = ("source", "machine", "buffer", "sink", "conveyor", "robot")
MACHINE_KINDS = ("machine", "conveyor", "robot")
IGNORED_KINDS = ("operator", "decor")


@dataclass(frozen=True)
class Station:
    id: int
    name: str
    kind: str  # 'source' | 'machine' | 'buffer' | 'sink'; 'conveyor' and 'robot' behave like machines
    x: float = 0.0
    z: float = 0.0
    cycle_time_s: float | None = None
    cycle_cv: float = 0.0
    mtbf_s: float | None = None
    mttr_s: float | None = None
    capacity: int = 1
    interarrival_s: float | None = None
    interarrival_cv: float = 1.0


@dataclass(frozen=True)
class Link:
    id: int
    source: int
    target: int
    buffer_capacity: int | None = None  # None = unbounded
    transport_speed_mps: float | None = None  # None = no transport time
    weight: float = 1.0


@dataclass(frozen=True)
class Model:
    stations: tuple[Station, ...]
    links: tuple[Link, ...]


class ModelError(Exception):
    """The layout cannot be simulated; `asset` / `connection` name the culprit (ids) where there is one."""

    def __init__(self, message: str, *, asset: int | None = None, connection: int | None = None):
        super().__init__(message)
        self.message = message
        self.asset = asset
        self.connection = connection

    def as_dict(self) -> dict:
        return {"detail": self.message, "asset": self.asset, "connection": self.connection}
