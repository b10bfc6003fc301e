"""The simulation's input: a frozen, Django-free description of a layout's flow network."""
from __future__ import annotations

from dataclasses import dataclass

FLOW_KINDS = ("source", "machine", "buffer", "sink", "conveyor", "robot", "assembly")
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
    # CONTRACT.md §7, all optional: absent = the behaviour of §4.
    mix: dict | None = None  # source: {type: weight}
    cycle_time_by_type: dict | None = None  # machine, assembly: {type: mean seconds}
    setup_time_s: float = 0.0
    setup_cv: float = 0.0
    scrap_rate: float = 0.0
    operator: int | None = None  # id of an operator station (a pool of `capacity` workers)
    repair_operator: int | None = None
    length_m: float | None = None  # conveyor: accumulating when length, speed and spacing are all set
    speed_mps: float | None = None
    spacing_m: float | None = None
    output_type: str | None = None  # assembly
    # The line engine's random streams are keyed by this (the asset's uid, kept by branches), so a branch and
    # its baseline draw the same numbers for the same asset: common random numbers in a review. None = id.
    stream_key: int | None = None


@dataclass(frozen=True)
class Link:
    id: int
    source: int
    target: int
    buffer_capacity: int | None = None  # None = unbounded
    transport_speed_mps: float | None = None  # None = no transport time
    weight: float = 1.0
    part_types: tuple | None = None  # §7: the types this connection accepts; None = every type
    quantity: int = 1  # §7: parts of this connection an assembly takes per cycle


@dataclass(frozen=True)
class Model:
    stations: tuple[Station, ...]
    links: tuple[Link, ...]
    calendar: dict | None = None  # §7: {"period_s", "on": [[start_s, end_s], ...]}; None = always on
    # §9: the plant as its twins report it now, {asset id: {"queue": parts waiting, "down": bool}}; a run
    # that starts from it is a forecast. None = an empty plant at t = 0.
    initial: dict | None = None


def is_accumulating(st: Station) -> bool:
    return st.kind == "conveyor" and st.length_m is not None and st.speed_mps is not None \
        and st.spacing_m is not None


def uses_line_model(model: Model) -> bool:
    """Whether the model uses anything of §7; if not, the §4 engines run it, number for number as before."""
    if model.calendar is not None or model.initial is not None:
        return True
    for st in model.stations:
        if st.kind == "assembly" or is_accumulating(st) or st.mix or st.cycle_time_by_type \
                or st.setup_time_s or st.scrap_rate or st.operator is not None or st.repair_operator is not None:
            return True
    return any(ln.part_types is not None for ln in model.links)


class ModelError(Exception):
    """The layout cannot be simulated; `asset` / `connection` name the culprit (ids) where there is one."""

    def __init__(self, message: str, *, asset: int | None = None, connection: int | None = None):
        super().__init__(message)
        self.message = message
        self.asset = asset
        self.connection = connection

    def as_dict(self) -> dict:
        return {"detail": self.message, "asset": self.asset, "connection": self.connection}
