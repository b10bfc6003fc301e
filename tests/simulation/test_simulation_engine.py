"""Behaviour of the engines beyond textbook queues: routing, transport, merges, the result's shape,
reproducibility, the fast path against the general engine, progress and cancel."""
import json
import math

import pytest
from sim_builders import line, machine, sink, source

from twins.simulation.model import Link, Model, Station
from twins.simulation.runner import Cancelled, combine, run_replication, simulate


def split_merge_model(speed=None, cap=3):
    """source -> m2 -> {m3 (weight 1), m4 (weight 3)} -> m5 -> sink: a split and a merge."""
    st = (source(1, 4.0, x=0), machine(2, 2.0, x=10), machine(3, 6.0, x=20, z=-10),
          machine(4, 5.0, capacity=2, x=20, z=10), machine(5, 2.0, x=30), sink(6, x=40))
    ln = (Link(10, 1, 2, None, speed), Link(11, 2, 3, cap, speed, 1.0), Link(12, 2, 4, cap, speed, 3.0),
          Link(13, 3, 5, cap, speed), Link(14, 4, 5, cap, speed), Link(15, 5, 6, None, speed))
    return Model(st, ln)


def test_split_routes_parts_in_proportion_to_weight():
    # Binomial: each part goes to m3 with p = 1/4; with n parts the share's standard error is √(p(1−p)/n).
    res = simulate(split_merge_model(), horizon_s=30_000, warmup_s=1_000, replications=4, seed=3)
    by_id = {s["asset"]: s for s in res["stations"]}
    n = by_id[3]["throughput_per_hour"] + by_id[4]["throughput_per_hour"]
    share = by_id[3]["throughput_per_hour"] / n
    parts = n * 29_000 / 3600 * 4
    assert abs(share - 0.25) <= 4 * math.sqrt(0.25 * 0.75 / parts)
    # Conservation at the merge: everything that went in comes out (up to parts inside at the edges).
    assert by_id[5]["throughput_per_hour"] == pytest.approx(n, rel=0.01)


def test_transport_adds_distance_over_speed_to_lead_time():
    # Deterministic: 30 m at 1.5 m/s = 20 s on the way in, 0 m to the sink placed at the machine, 2 s of
    # work, no waiting (one part every 10 s): lead time = 22 s exactly.
    st = (source(1, 10.0, cv=0.0, x=0), machine(2, 2.0, cv=0.0, x=30), sink(3, x=30))
    model = Model(st, (Link(1, 1, 2, 5, 1.5), Link(2, 2, 3, None, 1.5)))
    for engine in ("general", "fastpath"):
        res = simulate(model, horizon_s=2_000, warmup_s=100, replications=2, seed=1, engine=engine)
        assert res["lead_time_s"]["mean"] == pytest.approx(22.0)
        assert res["lead_time_s"]["p95"] == pytest.approx(22.0)


def test_parts_in_transit_count_against_the_buffer():
    # A source far faster than the line (a part every 0.1 s), a 10 s trip on a 2-slot connection, a fast
    # machine: at most 2 parts per 10 s trip, so 2 · 3600/10 = 720 parts/h, whichever engine runs it.
    st = (source(1, 0.1, cv=0.0, x=0), machine(2, 1.0, cv=0.0, x=10), sink(3, x=10))
    model = Model(st, (Link(1, 1, 2, 2, 1.0), Link(2, 2, 3)))
    for engine in ("general", "fastpath"):
        res = simulate(model, horizon_s=3_600, warmup_s=360, replications=1, seed=1, engine=engine)
        assert abs(res["throughput_per_hour"]["mean"] - 720.0) <= 2 * 3600 / 3240


def test_fast_path_equals_general_engine_on_the_same_random_numbers():
    # Without failures both engines consume each station's service stream in part order, so the
    # same seed must give the same numbers to rounding: a strong check of the max-plus recursion.
    model = line(machine(0, 4.0, cv=0.5), machine(0, 5.0, cv=1.0), machine(0, 4.5, cv=2.0),
                 interarrival=4.0, buffers=[3, 1, 0, None], speed=[0.5, 0.5, None, 0.5], spacing=2.0)
    kw = {"horizon_s": 20_000, "warmup_s": 1_000, "replications": 3, "seed": 11}
    fast, general = simulate(model, engine="fastpath", **kw), simulate(model, engine="general", **kw)
    assert fast["engine"] == "fastpath" and general["engine"] == "general"
    for key in ("throughput_per_hour", "lead_time_s", "wip"):
        for stat in fast[key]:
            assert fast[key][stat] == pytest.approx(general[key][stat], rel=1e-6, abs=1e-6)
    for a, b in zip(fast["stations"], general["stations"]):
        for k, v in a["utilization"].items():
            assert v == pytest.approx(b["utilization"][k], abs=1e-6)
        assert a["mean_queue"] == pytest.approx(b["mean_queue"], rel=1e-6, abs=1e-9)
    assert fast["playback"] == general["playback"]
    assert fast["station_visits"] == general["station_visits"]
    for key, values in fast["timeseries"].items():
        assert values == pytest.approx(general["timeseries"][key])


def test_fast_path_agrees_with_general_engine_within_confidence_intervals_with_failures():
    model = line(machine(0, 4.0, cv=0.5, mtbf=300, mttr=30), machine(0, 5.0, cv=1.0),
                 machine(0, 4.0, mtbf=100, mttr=10), buffers=2)
    kw = {"horizon_s": 40_000, "warmup_s": 2_000, "replications": 10, "seed": 5}
    fast, general = simulate(model, engine="fastpath", **kw), simulate(model, engine="general", **kw)
    for key in ("throughput_per_hour", "lead_time_s", "wip"):
        a, b = fast[key], general[key]
        assert abs(a["mean"] - b["mean"]) <= 3 * math.hypot(a["ci95"], b["ci95"]), key


def test_auto_picks_the_fast_path_only_for_serial_single_server_lines():
    kw = {"horizon_s": 2_000, "warmup_s": 100, "replications": 1, "seed": 1}
    assert simulate(line(machine(0, 2.0)), **kw)["engine"] == "fastpath"
    assert simulate(line(machine(0, 2.0, capacity=2)), **kw)["engine"] == "general"
    assert simulate(split_merge_model(), **kw)["engine"] == "general"


def test_same_seed_gives_identical_results_and_other_seeds_differ():
    kw = {"horizon_s": 10_000, "warmup_s": 500, "replications": 3}
    for model in (split_merge_model(speed=2.0), line(machine(0, 3.0), machine(0, 3.5), buffers=1)):
        a = json.dumps(simulate(model, seed=42, **kw), sort_keys=True)
        assert a == json.dumps(simulate(model, seed=42, **kw), sort_keys=True)
        assert a != json.dumps(simulate(model, seed=43, **kw), sort_keys=True)


@pytest.mark.parametrize("model", [split_merge_model(speed=1.0), line(machine(0, 3.0), buffers=1)],
                         ids=["general", "fastpath"])
def test_results_have_the_contract_shape_and_are_json(model):
    res = simulate(model, horizon_s=8_000, warmup_s=800, replications=3, seed=9)
    assert json.loads(json.dumps(res)) == res
    for key in ("throughput_per_hour", "wip"):
        assert set(res[key]) >= {"mean", "ci95"}
    assert set(res["lead_time_s"]) >= {"mean", "ci95", "p95"}
    assert res["replications"] == 3 and res["station_visits"] > 0
    ids = {s.id for s in model.stations}
    assert res["bottleneck"] in ids
    for row in res["stations"]:
        assert set(row) >= {"asset", "name", "throughput_per_hour", "mean_queue", "utilization"}
        assert sum(row["utilization"].values()) == pytest.approx(1.0)
        assert all(v >= -1e-12 for v in row["utilization"].values())
    ts = res["timeseries"]
    assert len(ts["t"]) == len(ts["throughput_per_hour"]) == len(ts["wip"]) >= 50
    assert 800 < ts["t"][0] < ts["t"][-1] < 8_000
    pb = res["playback"]
    assert len(pb["t"]) <= 200 and set(pb["states"]) == {str(i) for i in ids}
    for states in pb["states"].values():
        assert len(states) == len(pb["t"])
        assert set(states) <= {"working", "idle", "blocked", "down"}


def test_simulate_equals_combining_separately_run_replications():
    # What a Celery fan-out does: one task per replication, then combine.
    for model in (split_merge_model(), line(machine(0, 3.0), buffers=1)):
        kw = {"horizon_s": 5_000, "warmup_s": 500}
        reps = [run_replication(model, seed=8, replication=r, **kw) for r in (2, 0, 1)]
        assert combine(model, reps, **kw) == simulate(model, replications=3, seed=8, **kw)


def test_progress_is_reported_and_cancel_stops_the_run():
    seen = []
    simulate(split_merge_model(), horizon_s=2_000, warmup_s=0, replications=4, seed=1, progress=seen.append)
    assert seen == [0.25, 0.5, 0.75, 1.0]
    calls = []

    def cancel_after_two():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        simulate(split_merge_model(), horizon_s=2_000, warmup_s=0, replications=4, seed=1,
                 should_cancel=cancel_after_two)


def test_buffer_station_holds_parts_fifo_and_unlimited_source_never_starves_the_first_machine():
    st = (source(1), machine(2, 2.0, cv=0.0), Station(3, "buf", "buffer", capacity=5), machine(4, 3.0, cv=0.0),
          sink(5))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3, 0), Link(3, 3, 4, 0), Link(4, 4, 5)))
    res = simulate(model, horizon_s=3_600, warmup_s=600, replications=1, seed=1)
    by_id = {s["asset"]: s for s in res["stations"]}
    assert res["throughput_per_hour"]["mean"] == pytest.approx(1200.0, abs=2)
    assert by_id[4]["utilization"]["working"] == pytest.approx(1.0)
    assert by_id[2]["utilization"]["idle"] == pytest.approx(0.0)
    # The buffer is full once the line has filled: its 5 slots hold parts waiting for m4.
    assert by_id[3]["utilization"]["blocked"] == pytest.approx(1.0)


def test_a_cycle_with_an_unbounded_connection_runs_and_obeys_littles_law():
    # Rework loop: m3 sends 1 part in 5 back to m2 on an unbounded connection (allowed: cannot deadlock).
    st = (source(1, 10.0), machine(2, 3.0), machine(3, 3.0), sink(4))
    ln = (Link(1, 1, 2), Link(2, 2, 3, 2), Link(3, 3, 2, None, None, 1.0), Link(4, 3, 4, None, None, 4.0))
    res = simulate(Model(st, ln), horizon_s=100_000, warmup_s=2_000, replications=4, seed=2)
    # Each part visits m2 and m3 a geometric number of times, mean 1/(1 − 1/5) = 1.25 (visit ratios).
    by_id = {s["asset"]: s for s in res["stations"]}
    assert by_id[2]["throughput_per_hour"] / res["throughput_per_hour"]["mean"] == pytest.approx(1.25, rel=0.03)
    lam = res["throughput_per_hour"]["mean"] / 3600
    assert res["wip"]["mean"] == pytest.approx(lam * res["lead_time_s"]["mean"], rel=0.03)


@pytest.mark.parametrize("engine", ["general", "fastpath"])
def test_bottleneck_is_the_machine_that_blocks_upstream_and_starves_downstream(engine):
    # m3 works 6 s a part but is down 20% of its operating time (MTBF 120 s, MTTR 30 s), so its
    # effective cycle is 6/0.8 = 7.5 s against 5 s and 5.5 s: m2 is blocked and m4 starved by it.
    model = line(machine(0, 5.0), machine(0, 6.0, mtbf=120.0, mttr=30.0), machine(0, 5.5), buffers=3)
    res = simulate(model, horizon_s=40_000, warmup_s=2_000, replications=3, seed=4, engine=engine)
    assert res["bottleneck"] == 3
    by_id = {s["asset"]: s["utilization"] for s in res["stations"]}
    assert by_id[2]["blocked"] > by_id[3]["idle"] and by_id[4]["idle"] > by_id[3]["blocked"]


def test_zero_slot_merge_hands_parts_over_directly():
    # Two unlimited machines (2 s and 3 s, deterministic) feed M over zero-slot connections, so a finished
    # part waits in its machine until M is free. They offer 3600/2 + 3600/3 = 3000 parts/h; M at 1.5 s
    # can take only 3600/1.5 = 2400: M never starves, runs flat out and is the bottleneck.
    st = (source(1), source(2), machine(3, 2.0, cv=0.0), machine(4, 3.0, cv=0.0), machine(5, 1.5, cv=0.0),
          sink(6))
    ln = (Link(1, 1, 3), Link(2, 2, 4), Link(3, 3, 5, 0), Link(4, 4, 5, 0), Link(5, 5, 6))
    res = simulate(Model(st, ln), horizon_s=7_200, warmup_s=720, replications=1, seed=1)
    assert res["engine"] == "general"
    assert res["throughput_per_hour"]["mean"] == pytest.approx(2400.0, abs=3600 / 6480 * 2)
    by_id = {s["asset"]: s for s in res["stations"]}
    assert by_id[5]["utilization"]["working"] == pytest.approx(1.0)
    assert by_id[5]["mean_queue"] == 0.0  # zero slots: nothing ever waits on those connections
    assert by_id[3]["throughput_per_hour"] + by_id[4]["throughput_per_hour"] == pytest.approx(2400.0, abs=2)
    assert res["bottleneck"] == 5


def test_two_sources_and_two_sinks_share_one_lead_time_and_wip():
    # Two Poisson sources (λ = 1/20 each) into one M/M/2 station (μ = 1/15 per server) that splits to two
    # sinks: it is an M/M/2 with λ = 1/10 (superposition of Poisson streams), W from Erlang C.
    st = (source(1, 20.0), source(2, 20.0), machine(3, 15.0, capacity=2), sink(4), sink(5))
    ln = (Link(1, 1, 3), Link(2, 2, 3), Link(3, 3, 4, None, None, 1.0), Link(4, 3, 5, None, None, 1.0))
    res = simulate(Model(st, ln), horizon_s=150_000, warmup_s=5_000, replications=6, seed=12)
    a = 0.1 * 15  # offered load
    c_wait = (a**2 / 2 * 2 / (2 - a)) / (1 + a + a**2 / 2 * 2 / (2 - a))
    w = c_wait / (2 / 15 - 0.1) + 15
    assert abs(res["lead_time_s"]["mean"] - w) <= 3 * res["lead_time_s"]["ci95"] + 0.02 * w
    by_id = {s["asset"]: s for s in res["stations"]}
    assert by_id[4]["throughput_per_hour"] + by_id[5]["throughput_per_hour"] == pytest.approx(
        res["throughput_per_hour"]["mean"])
    lam = res["throughput_per_hour"]["mean"] / 3600
    assert res["wip"]["mean"] == pytest.approx(lam * res["lead_time_s"]["mean"], rel=0.03)


def test_run_replications_equals_one_replication_at_a_time():
    """A Celery batch (run_replications) gives exactly what separate run_replication() calls give."""
    from twins.simulation.runner import run_replication, run_replications

    model = serial_line_for_batches()
    batch = run_replications(model, horizon_s=2000, warmup_s=200, seed=7, replications=[0, 1, 2])
    single = [run_replication(model, horizon_s=2000, warmup_s=200, seed=7, replication=r) for r in (0, 1, 2)]
    assert batch == single


def test_run_replications_stops_when_cancelled():
    from twins.simulation.runner import Cancelled, run_replications

    with pytest.raises(Cancelled):
        run_replications(serial_line_for_batches(), horizon_s=2000, warmup_s=0, seed=1, replications=[0, 1], should_cancel=lambda: True)


def serial_line_for_batches():
    from twins.simulation.model import Link, Model, Station

    def st(i, kind, **kw):
        base = dict(id=i, name=f"S{i}", kind=kind, x=float(i), z=0.0, cycle_time_s=None, cycle_cv=1.0, mtbf_s=None, mttr_s=None,
                    capacity=1, interarrival_s=None, interarrival_cv=1.0)
        base.update(kw)
        return Station(**base)

    stations = (st(1, "source", interarrival_s=10.0), st(2, "machine", cycle_time_s=6.0), st(3, "machine", cycle_time_s=7.0), st(4, "sink"))
    links = tuple(Link(id=10 + i, source=i, target=i + 1, buffer_capacity=2, transport_speed_mps=None, weight=1.0) for i in (1, 2, 3))
    return Model(stations=stations, links=links)


def test_a_long_replication_on_the_event_engine_stops_inside_itself_when_cancelled():
    from twins.simulation.engine import CANCEL_CHECKS
    from twins.simulation.runner import Cancelled, is_vectorised, run_replications

    model = split_merge_model()
    assert not is_vectorised(model, 50_000), "this layout runs on the event engine"
    asked = []

    def cancel_on_the_third_question():
        asked.append(1)
        return len(asked) >= 3

    with pytest.raises(Cancelled):
        run_replications(model, horizon_s=50_000, warmup_s=0, seed=1, replications=[0], should_cancel=cancel_on_the_third_question)
    # One replication, asked once before it started and then from inside it, at 1/CANCEL_CHECKS of the horizon.
    assert len(asked) == 3 < CANCEL_CHECKS


@pytest.mark.parametrize("buffer", [None, 2])
def test_an_unlimited_source_never_starves_its_station_across_a_transport_time(buffer):
    # CONTRACT §4: unlimited supply, the next station never starves. A 10 m hop at 1 m/s in front of a
    # deterministic 1 s machine: the first part arrives at t = 10 s, then the machine never waits, so after
    # the warm-up it makes exactly 3,600 parts/h and is busy all the time. Parts are sent just in time: each
    # leaves the source 10 s before the machine takes it, so the lead time is 10 + 1 = 11 s and, by
    # Little's law (1 part/s), WIP = 11 parts, plus the `buffer` parts that wait in front of it, each for
    # `buffer` more seconds. Only edge: the parts sent in the last 10 s for pickups after the horizon don't
    # exist, which takes at most 10 · 10 / 2 part-seconds off WIP's integral over the 3,540 s window.
    st = (source(1, x=0), machine(2, 1.0, cv=0.0, x=10), sink(3, x=10))
    model = Model(st, (Link(1, 1, 2, buffer, 1.0), Link(2, 2, 3)))
    wait = buffer or 0
    for engine in ("general", "fastpath"):
        res = simulate(model, horizon_s=3_600, warmup_s=60, replications=1, seed=1, engine=engine)
        assert res["throughput_per_hour"]["mean"] == pytest.approx(3600.0, abs=1.1)
        m = next(s for s in res["stations"] if s["asset"] == 2)
        assert m["utilization"]["working"] == pytest.approx(1.0)
        assert m["utilization"]["idle"] == pytest.approx(0.0, abs=1e-9)
        assert res["lead_time_s"]["mean"] == pytest.approx(11.0 + wait)
        assert 11.0 + wait - 50 / 3540 - 1e-9 <= res["wip"]["mean"] <= 11.0 + wait + 1e-9


def test_a_split_right_after_an_unlimited_source_feeds_every_branch():
    # Two deterministic 1 s machines behind one unlimited source: neither ever starves, 2 · 3,600 parts/h
    # (the old engine routed the source's one part at random and left the other branch idle: 5,404/h).
    st = (source(1), machine(2, 1.0, cv=0.0), machine(3, 1.0, cv=0.0), sink(4))
    model = Model(st, (Link(1, 1, 2, None, None, 1.0), Link(2, 1, 3, None, None, 3.0),
                       Link(3, 2, 4), Link(4, 3, 4)))
    res = simulate(model, horizon_s=3_600, warmup_s=60, replications=2, seed=4)
    assert res["throughput_per_hour"]["mean"] == pytest.approx(7200.0, abs=2.1)
    for asset in (2, 3):
        m = next(s for s in res["stations"] if s["asset"] == asset)
        assert m["throughput_per_hour"] == pytest.approx(3600.0, abs=1.1)
        assert m["utilization"]["working"] == pytest.approx(1.0)


def test_a_supply_link_with_transport_fills_every_server_of_its_station():
    # Capacity 3, 4 s deterministic cycle, 5 s trip from an unlimited source: three parts arrive at 5 s,
    # then all three servers stay busy: 3 · 900 = 2,700 parts/h.
    st = (source(1, x=0), machine(2, 4.0, cv=0.0, capacity=3, x=5), sink(3, x=5))
    model = Model(st, (Link(1, 1, 2, None, 1.0), Link(2, 2, 3)))
    res = simulate(model, horizon_s=3_605, warmup_s=5, replications=1, seed=1)
    assert res["throughput_per_hour"]["mean"] == pytest.approx(2700.0)
    assert res["lead_time_s"]["mean"] == pytest.approx(9.0)


def test_both_engines_trace_the_same_queues_and_parts_in_transit():
    # The trace of replication 0 (parts playback): a line both engines can run on the same random numbers
    # must show the same parts waiting and the same parts on the way at every sample.
    model = line(machine(0, 4.0, cv=0.5), machine(0, 5.0, cv=1.0), interarrival=4.0, buffers=[3, 2, None],
                 speed=[0.5, 0.5, None], spacing=2.0)
    kw = {"horizon_s": 3_000, "warmup_s": 100, "replications": 1, "seed": 4}
    fast, general = simulate(model, engine="fastpath", **kw), simulate(model, engine="general", **kw)
    a, b = fast["trace"], general["trace"]
    assert a["t"] == b["t"] and len(a["t"]) == 200
    assert a["queues"] == b["queues"]
    assert a["transit"].keys() == b["transit"].keys() == {"100", "101"}
    for key in a["transit"]:
        for x, y in zip(a["transit"][key], b["transit"][key]):
            assert x == pytest.approx(y, abs=2e-3)
    assert any(a["queues"]["3"]) and any(any(v) for v in a["transit"]["100"])
    assert all(0.0 <= f <= 1.0 for v in a["transit"]["101"] for f in v)
