"""Builders for simulation models in tests: a line, a split, by keyword."""
from twins.simulation.model import Link, Model, Station


def source(id=1, interarrival=None, cv=1.0, x=0.0, z=0.0):
    return Station(id, f"source-{id}", "source", x=x, z=z, interarrival_s=interarrival, interarrival_cv=cv)


def machine(id, cycle, cv=1.0, capacity=1, mtbf=None, mttr=None, x=0.0, z=0.0, kind="machine"):
    return Station(id, f"m-{id}", kind, x=x, z=z, cycle_time_s=cycle, cycle_cv=cv, capacity=capacity,
                   mtbf_s=mtbf, mttr_s=mttr)


def sink(id, x=0.0, z=0.0):
    return Station(id, f"sink-{id}", "sink", x=x, z=z)


def line(*machines, interarrival=None, source_cv=1.0, buffers=None, speed=None, spacing=0.0):
    """source -> machines... -> sink; `buffers`, `speed`: each link's (one value or a list)."""
    stations = [source(1, interarrival, source_cv, x=0.0)]
    for k, m in enumerate(machines):
        stations.append(Station(**{**m.__dict__, "id": k + 2, "x": spacing * (k + 1)}))
    stations.append(sink(len(machines) + 2, x=spacing * (len(machines) + 1)))
    n_links = len(stations) - 1
    if not isinstance(buffers, (list, tuple)):
        buffers = [buffers] * n_links
    if not isinstance(speed, (list, tuple)):
        speed = [speed] * n_links
    links = tuple(Link(100 + k, stations[k].id, stations[k + 1].id, buffers[k], speed[k]) for k in range(n_links))
    return Model(tuple(stations), links)
