"""Property tests (hypothesis): random lines and random split/merge layouts.

- On any serial line the max-plus fast path and the event engine read the same random numbers, so they
  must agree to rounding, whatever the cycle times, variability, failures-free buffers and transport.
- On any layout: utilisations add up to 1, flow is conserved, Little's law holds, and the run is
  deterministic."""
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sim_builders import line, machine

from twins.simulation.model import Link, Model, Station
from twins.simulation.runner import simulate

cycles = st.floats(min_value=0.5, max_value=5.0)
cvs = st.sampled_from([0.0, 0.5, 1.0, 1.5])
FAST = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@st.composite
def serial_lines(draw):
    m = draw(st.integers(min_value=1, max_value=5))
    machines = [machine(0, draw(cycles), cv=draw(cvs)) for _ in range(m)]
    interarrival = draw(st.one_of(st.none(), st.floats(min_value=1.0, max_value=6.0)))
    speeds = draw(st.lists(st.one_of(st.none(), st.floats(min_value=0.5, max_value=3.0)), min_size=m + 1,
                           max_size=m + 1))
    buffers = [draw(st.one_of(st.none(), st.integers(min_value=1 if s else 0, max_value=4))) for s in speeds]
    return line(*machines, interarrival=interarrival, buffers=buffers, speed=speeds, spacing=2.0)


@FAST
@given(model=serial_lines(), seed=st.integers(min_value=0, max_value=10_000))
def test_fast_path_and_event_engine_agree_on_any_serial_line(model, seed):
    kw = {"horizon_s": 1_500, "warmup_s": 150, "replications": 2, "seed": seed}
    fast, general = simulate(model, engine="fastpath", **kw), simulate(model, engine="general", **kw)
    assert fast["station_visits"] == general["station_visits"]
    for key in ("throughput_per_hour", "lead_time_s", "wip"):
        for stat, value in fast[key].items():
            assert value == pytest.approx(general[key][stat], rel=1e-6, abs=1e-6), (key, stat)
    for a, b in zip(fast["stations"], general["stations"]):
        assert a["throughput_per_hour"] == b["throughput_per_hour"]
        for k, v in a["utilization"].items():
            assert v == pytest.approx(b["utilization"][k], abs=1e-6)


@st.composite
def layouts(draw):
    """Layers of machines; every machine feeds one or more machines of the next layer (weights drawn)."""
    sizes = draw(st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=3))
    stations = [Station(1, "src", "source", interarrival_s=draw(st.one_of(st.none(), st.floats(1.0, 4.0))))]
    layers = [[1]]
    for size in sizes:
        layer = []
        for _ in range(size):
            sid = len(stations) + 1
            failing = draw(st.booleans())
            stations.append(Station(sid, f"m{sid}", "machine", x=float(len(layers)) * 3, z=float(len(layer)) * 3,
                                    cycle_time_s=draw(cycles), cycle_cv=draw(cvs),
                                    capacity=draw(st.integers(1, 2)), mtbf_s=100.0 if failing else None,
                                    mttr_s=10.0 if failing else None))
            layer.append(sid)
        layers.append(layer)
    sink_id = len(stations) + 1
    stations.append(Station(sink_id, "out", "sink", x=float(len(layers)) * 3))
    layers.append([sink_id])
    links = []
    for up, down in itertools.pairwise(layers):
        fed = set()
        for a in up:
            targets = draw(st.lists(st.sampled_from(down), min_size=1, max_size=len(down), unique=True))
            fed.update(targets)
            for b in targets:
                links.append((a, b))
        links += [(up[0], b) for b in down if b not in fed and (up[0], b) not in links]
    speed = draw(st.one_of(st.none(), st.floats(0.5, 3.0)))
    out = []
    for k, (a, b) in enumerate(links):
        cap = draw(st.one_of(st.none(), st.integers(1 if speed else 0, 3)))
        out.append(Link(100 + k, a, b, cap, speed, draw(st.floats(0.5, 3.0))))
    return Model(tuple(stations), tuple(out))


@FAST
@given(model=layouts(), seed=st.integers(min_value=0, max_value=10_000))
def test_any_layout_conserves_parts_and_obeys_littles_law(model, seed):
    kw = {"horizon_s": 2_500, "warmup_s": 250, "replications": 2, "seed": seed}
    res = simulate(model, **kw)
    assert json.dumps(res, sort_keys=True) == json.dumps(simulate(model, **kw), sort_keys=True)
    for row in res["stations"]:
        assert sum(row["utilization"].values()) == pytest.approx(1.0)
        assert min(row["utilization"].values()) >= -1e-9
    by_id = {row["asset"]: row for row in res["stations"]}
    src, snk = model.stations[0].id, model.stations[-1].id
    assert by_id[snk]["throughput_per_hour"] == pytest.approx(res["throughput_per_hour"]["mean"])
    if all(ln.buffer_capacity is not None for ln in model.links):
        # Finite buffers bound the WIP, so the run is stationary enough for the window's balances:
        # parts that left the source minus those that reached the sink = the change of WIP ≤ what the
        # layout can hold, and Little's law L = λW holds up to edge effects of a few parts.
        held = sum(s.capacity for s in model.stations) + sum(ln.buffer_capacity for ln in model.links)
        window_h = (kw["horizon_s"] - kw["warmup_s"]) / 3600
        assert by_id[src]["throughput_per_hour"] * window_h <= by_id[snk]["throughput_per_hour"] * window_h + held + 1
        lam = res["throughput_per_hour"]["mean"] / 3600
        assert res["wip"]["mean"] == pytest.approx(lam * res["lead_time_s"]["mean"], rel=0.1, abs=1.0)
