"""CONTRACT.md §7 against what can be computed exactly: calendars, shared operators, assemblies, setups on
a product mix, scrap, accumulating conveyors, OEE; plus the static check that a part type can't get stuck
and the warm-up suggestion."""
import math

import pytest
from sim_builders import machine, sink, source

from twins.simulation.line_stats import bottleneck_time, mser5
from twins.simulation.model import Link, Model, ModelError, Station, uses_line_model
from twins.simulation.runner import run_replication, simulate
from twins.simulation.validate import validate

HOUR = 3600.0


def by_asset(res, asset):
    return next(s for s in res["stations"] if s["asset"] == asset)


def operator(id, capacity=1):
    return Station(id, f"op-{id}", "operator", capacity=capacity)


def within_ci(value, stat, k=4.0, floor=1e-9):
    return abs(value - stat["mean"]) <= k * stat["ci95"] + floor


def test_a_calendar_of_8_hours_on_in_24_gives_a_third_of_the_output():
    # A saturated deterministic 1 s station: 3,600/h when always on; 8 h on, 16 h off: one third, and the
    # station is off shift 2/3 of the time. Two whole days, no warm-up: exact.
    st = (source(1), machine(2, 1.0, cv=0.0), sink(3))
    ln = (Link(1, 1, 2), Link(2, 2, 3))
    always = simulate(Model(st, ln), horizon_s=2 * 86400, warmup_s=0, replications=1, seed=1)
    shifts = simulate(Model(st, ln, calendar={"period_s": 86400, "on": [[0, 8 * HOUR]]}),
                      horizon_s=2 * 86400, warmup_s=0, replications=1, seed=1)
    assert shifts["engine"] == "line"
    assert always["throughput_per_hour"]["mean"] == pytest.approx(3600.0, abs=0.1)
    assert shifts["throughput_per_hour"]["mean"] == pytest.approx(1200.0, abs=0.1)
    u = by_asset(shifts, 2)["utilization"]
    assert u["off_shift"] == pytest.approx(2 / 3)
    assert u["working"] == pytest.approx(1 / 3, abs=1e-4)
    assert sum(u.values()) == pytest.approx(1.0)


def test_work_in_progress_pauses_off_shift_and_resumes():
    # A 1,000 s deterministic cycle, on for 1,500 s of every 2,000: the second part starts at 1,000, pauses
    # at 1,500 with 500 s left, resumes at 2,000 and ends at 2,500; parts end at 1000, 2500, 3500, 5000, ...
    st = (source(1), machine(2, 1000.0, cv=0.0), sink(3))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3)), calendar={"period_s": 2000, "on": [[0, 1500]]})
    rep = run_replication(model, horizon_s=8000, warmup_s=0, seed=0, replication=0)
    # 3 parts every 4,000 s (two periods): by 8,000 s parts end at 1000, 2500, 3500, 5000, 6500, 7500.
    assert rep["lead_count"] == 6
    assert rep["stations"][1]["off_shift"] == pytest.approx(0.25)


def test_two_saturated_machines_sharing_one_operator_each_run_half_the_time():
    st = (source(1), source(2), machine(3, 1.0, cv=0.0), machine(4, 1.0, cv=0.0), sink(5), operator(9))
    st = tuple(Station(**{**s.__dict__, "operator": 9}) if s.id in (3, 4) else s for s in st)
    model = Model(st, (Link(1, 1, 3), Link(2, 2, 4), Link(3, 3, 5), Link(4, 4, 5)))
    res = simulate(model, horizon_s=3600, warmup_s=100, replications=1, seed=1)
    for asset in (3, 4):
        s = by_asset(res, asset)
        assert s["throughput_per_hour"] == pytest.approx(1800.0, abs=1.1)  # 0.5 parts/s
        assert s["utilization"]["waiting_operator"] == pytest.approx(0.5, abs=1e-3)
        assert s["utilization"]["working"] == pytest.approx(0.5, abs=1e-3)
    assert res["resources"] == [{"asset": 9, "name": "op-9", "capacity": 1, "utilization": pytest.approx(1.0)}]


def test_a_repair_waits_for_its_repair_worker():
    # Deterministic failures can't be set, but the wait is visible: a busy repair pool (capacity 1) shared by
    # two failing machines makes them down longer than MTTR / (MTBF + MTTR) would with two workers.
    def model(workers):
        st = [source(1), source(2), machine(3, 1.0, cv=0.0, mtbf=50, mttr=50), machine(4, 1.0, cv=0.0, mtbf=50, mttr=50),
              sink(5), operator(9, workers)]
        st = tuple(Station(**{**s.__dict__, "repair_operator": 9}) if s.id in (3, 4) else s for s in st)
        return Model(st, (Link(1, 1, 3), Link(2, 2, 4), Link(3, 3, 5), Link(4, 4, 5)))
    two = simulate(model(2), horizon_s=200_000, warmup_s=1000, replications=2, seed=3)
    one = simulate(model(1), horizon_s=200_000, warmup_s=1000, replications=2, seed=3)
    # Two workers: each machine alone, down share MTTR / (MTBF + MTTR) = 0.5.
    assert by_asset(two, 3)["utilization"]["down"] == pytest.approx(0.5, abs=0.02)
    # One worker for both: the pair is a two-machine repairman problem; down share per machine is
    # (P1/2 + P2) with P0 : P1 : P2 = 1 : 2ρ : 2ρ² for ρ = MTTR/MTBF = 1 -> 1/5, 2/5, 2/5: 0.2 + 0.4 = 0.6.
    assert by_asset(one, 3)["utilization"]["down"] == pytest.approx(0.6, abs=0.02)


@pytest.mark.parametrize("poisson", [False, True])
def test_an_assembly_takes_its_quantities_from_every_feeder(poisson):
    # Unlimited feeders with quantities 1 and 2, a deterministic 1 s cycle: 3,600/h. With the quantity-1
    # feeder a Poisson source at 0.5/s, the assembly can only go at its pace: 1,800/h.
    feeder = source(1, 2.0, cv=1.0) if poisson else source(1)
    st = (feeder, source(2), Station(3, "housing", "assembly", cycle_time_s=1.0, cycle_cv=0.0), sink(4))
    ln = (Link(1, 1, 3, None, None, 1.0, None, 1), Link(2, 2, 3, None, None, 1.0, None, 2), Link(3, 3, 4))
    res = simulate(Model(st, ln), horizon_s=40_000 if poisson else 3600, warmup_s=100, replications=4, seed=5)
    expect = 1800.0 if poisson else 3600.0
    tp = res["throughput_per_hour"]
    if poisson:
        assert abs(tp["mean"] - expect) <= max(4 * tp["ci95"], 0.02 * expect)
    else:
        assert tp["mean"] == pytest.approx(expect, abs=1.1)
    assert set(res["throughput_by_type"]) == {"housing"}
    # Each output holds one part from feeder 1 and two from feeder 2 (unlimited feeders count per link).
    assert by_asset(res, 2)["throughput_per_hour"] == pytest.approx(2 * by_asset(res, 3)["throughput_per_hour"], rel=1e-3)


def test_setups_on_a_fifty_fifty_mix_cost_half_a_setup_per_part():
    # Types drawn 50/50 independently: the type changes before half the parts, so each part takes
    # c + s/2 on average and the saturated station makes 1 / (c + s/2) parts per second.
    c, s = 2.0, 3.0
    src = Station(1, "src", "source", mix={"A": 1, "B": 1})
    m = Station(2, "cnc", "machine", cycle_time_s=c, cycle_cv=0.0, setup_time_s=s, setup_cv=0.0)
    model = Model((src, m, sink(3)), (Link(1, 1, 2), Link(2, 2, 3)))
    res = simulate(model, horizon_s=200_000, warmup_s=100, replications=4, seed=2)
    expect = 3600.0 / (c + s / 2)
    assert abs(res["throughput_per_hour"]["mean"] - expect) <= max(4 * res["throughput_per_hour"]["ci95"], 1.0)
    u = by_asset(res, 2)["utilization"]
    assert u["setup"] == pytest.approx((s / 2) / (c + s / 2), abs=0.01)
    for t in ("A", "B"):
        assert res["throughput_by_type"][t]["mean"] == pytest.approx(expect / 2, rel=0.03)


def test_cycle_time_by_type_sets_each_types_pace():
    # A then B alternate by chance; A takes 1 s, B 3 s: mean 2 s a part, 1,800/h.
    src = Station(1, "src", "source", mix={"A": 1, "B": 1})
    m = Station(2, "m", "machine", cycle_time_s=9.0, cycle_cv=0.0, cycle_time_by_type={"A": 1.0, "B": 3.0})
    res = simulate(Model((src, m, sink(3)), (Link(1, 1, 2), Link(2, 2, 3))), horizon_s=100_000, warmup_s=10,
                   replications=3, seed=4)
    assert abs(res["throughput_per_hour"]["mean"] - 1800.0) <= max(4 * res["throughput_per_hour"]["ci95"], 1.0)


def test_scrap_takes_its_share_of_the_good_output():
    q = 0.2
    m = Station(2, "m", "machine", cycle_time_s=1.0, cycle_cv=0.0, scrap_rate=q)
    res = simulate(Model((source(1), m, sink(3)), (Link(1, 1, 2), Link(2, 2, 3))), horizon_s=100_000,
                   warmup_s=10, replications=3, seed=6)
    assert abs(res["throughput_per_hour"]["mean"] - (1 - q) * 3600.0) <= max(4 * res["throughput_per_hour"]["ci95"], 2.0)
    assert res["scrap_per_hour"]["mean"] == pytest.approx(q * 3600.0, rel=0.02)
    assert by_asset(res, 2)["scrapped"] == pytest.approx(q * 3600.0, rel=0.02)
    assert by_asset(res, 2)["oee"]["quality"] == pytest.approx(1 - q, abs=0.01)


def test_a_conveyor_is_a_pure_delay_in_front_of_an_md1_queue():
    # Poisson arrivals at 0.1/s ride 10 m at 1 m/s (order kept, at most 10 aboard), then queue for a
    # deterministic 1 s machine: M/D/1 at ρ = 0.1, sojourn 1 + ρ / (2μ(1 − ρ)) = 1.0556 s, plus the 10 s ride.
    conv = Station(2, "belt", "conveyor", cycle_time_s=None, length_m=10.0, speed_mps=1.0, spacing_m=1.0)
    st = (source(1, 10.0, cv=1.0), conv, machine(3, 1.0, cv=0.0), sink(4))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3), Link(3, 3, 4)))
    res = simulate(model, horizon_s=400_000, warmup_s=1000, replications=4, seed=8)
    rho = 0.1
    expect = 10.0 + 1.0 + rho / (2 * 1.0 * (1 - rho))
    assert abs(res["lead_time_s"]["mean"] - expect) <= max(4 * res["lead_time_s"]["ci95"], 0.02)


def test_an_accumulating_conveyor_holds_at_most_its_slots():
    # A 4 m belt with 1 m spacing in front of a slow machine: at most 4 parts aboard (the one at the end
    # included) and 1 on the machine; an unlimited source keeps it full: WIP = 4 + 1 exactly after the fill.
    conv = Station(2, "belt", "conveyor", length_m=4.0, speed_mps=1.0, spacing_m=1.0)
    st = (source(1), conv, machine(3, 10.0, cv=0.0), sink(4))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3, 0), Link(3, 3, 4)))
    res = simulate(model, horizon_s=10_000, warmup_s=100, replications=1, seed=1)
    assert res["wip"]["mean"] == pytest.approx(5.0, abs=0.01)
    assert res["throughput_per_hour"]["mean"] == pytest.approx(360.0, abs=0.5)


def test_oee_of_a_station_with_availability_0_9_and_scrap_0_1_is_0_81():
    m = Station(2, "m", "machine", cycle_time_s=1.0, cycle_cv=0.0, mtbf_s=90.0, mttr_s=10.0, scrap_rate=0.1)
    res = simulate(Model((source(1), m, sink(3)), (Link(1, 1, 2), Link(2, 2, 3))), horizon_s=400_000,
                   warmup_s=100, replications=3, seed=9)
    oee = by_asset(res, 2)["oee"]
    assert oee["availability"] == pytest.approx(0.9, abs=0.01)
    assert oee["performance"] == pytest.approx(1.0, abs=1e-6)
    assert oee["quality"] == pytest.approx(0.9, abs=0.005)
    assert oee["oee"] == pytest.approx(0.81, abs=0.01)


def test_part_types_route_each_type_to_its_branch():
    src = Station(1, "src", "source", mix={"A": 3, "B": 1})
    st = (src, machine(2, 0.1), machine(3, 0.1), sink(4))
    ln = (Link(1, 1, 2, None, None, 1.0, ("A",)), Link(2, 1, 3, None, None, 1.0, ("B",)),
          Link(3, 2, 4), Link(4, 3, 4))
    # An unlimited source feeds each branch on demand; the links' types decide what each one gets.
    res = simulate(Model(st, ln), horizon_s=2000, warmup_s=10, replications=1, seed=1)
    assert res["engine"] == "line"
    # Each machine only ever saw its own type (the sink counts by type).
    assert set(res["throughput_by_type"]) == {"A", "B"}


def test_a_type_that_no_outgoing_connection_accepts_is_refused_naming_the_station():
    src = Station(1, "src", "source", mix={"A": 1, "B": 1})
    st = (src, machine(2, 1.0), sink(3))
    ln = (Link(1, 1, 2), Link(2, 2, 3, None, None, 1.0, ("A",)))
    with pytest.raises(ModelError) as err:
        validate(Model(st, ln))
    assert err.value.asset == 2 and "'B'" in err.value.message


def test_bad_line_parameters_are_refused_with_the_culprit():
    for bad in ({"scrap_rate": 1.0}, {"setup_time_s": -1.0}, {"operator": 77}, {"mix": {"": 1}}):
        st = (source(1), Station(**{**machine(2, 1.0).__dict__, **bad}), sink(3))
        if "mix" in bad:
            st = (Station(**{**source(1).__dict__, **bad}), machine(2, 1.0), sink(3))
        with pytest.raises(ModelError) as err:
            validate(Model(st, (Link(1, 1, 2), Link(2, 2, 3))))
        assert err.value.asset in (1, 2)
    with pytest.raises(ModelError):
        validate(Model((source(1), machine(2, 1.0), sink(3)), (Link(1, 1, 2), Link(2, 2, 3)),
                       calendar={"period_s": 100, "on": [[50, 40]]}))


def test_a_layout_without_line_features_stays_on_the_earlier_engines():
    st = (source(1), machine(2, 1.0), sink(3))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3)))
    assert not uses_line_model(model)
    assert simulate(model, horizon_s=100, warmup_s=0, replications=1, seed=1)["engine"] in ("fastpath", "general")


def test_the_line_engine_agrees_with_the_event_engine_where_both_apply():
    # A §4 layout forced onto the line engine by an always-on calendar: same queueing behaviour, other
    # random numbers, so the figures agree within their confidence intervals.
    st = (source(1, 1.2), machine(2, 1.0, cv=1.0), machine(3, 0.9, cv=0.5, capacity=2), sink(4))
    ln = (Link(1, 1, 2), Link(2, 2, 3, 2), Link(3, 3, 4))
    kw = {"horizon_s": 50_000, "warmup_s": 1000, "replications": 6, "seed": 3}
    base = simulate(Model(st, ln), **kw)
    line = simulate(Model(st, ln, calendar={"period_s": 1000, "on": [[0, 1000]]}), **kw)
    assert line["engine"] == "line"
    for key in ("throughput_per_hour", "wip", "lead_time_s"):
        a, b = base[key], line[key]
        assert abs(a["mean"] - b["mean"]) <= 4 * math.hypot(a["ci95"], b["ci95"]) + 1e-6, key


def test_bottleneck_shares_pick_the_longest_active_period():
    # Station 0 active [0, 10], station 1 active [2, 4] and [5, 20]: 0 holds [0, 5), 1 holds [5, 20].
    shares = bottleneck_time([[(0.0, 10.0)], [(2.0, 4.0), (5.0, 20.0)]], 0.0, 20.0)
    assert shares == [5.0, 15.0]


def test_a_saturated_line_names_its_slowest_station_the_bottleneck_most_of_the_time():
    st = (source(1), machine(2, 1.0, cv=0.5), machine(3, 1.5, cv=0.5), sink(4))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3, 3), Link(3, 3, 4)), calendar={"period_s": 100, "on": [[0, 100]]})
    res = simulate(model, horizon_s=20_000, warmup_s=100, replications=2, seed=1)
    shares = res["bottleneck_shares"]
    assert shares["3"] > 0.6 and shares["3"] > shares["2"]


def test_mser5_finds_the_end_of_an_initial_transient():
    y = [10.0 - k for k in range(10)] + [0.0] * 190  # a ramp down over the first 10 bins, then flat
    assert mser5(y, 1.0) == pytest.approx(10.0, abs=5.0)
    st = (source(1), machine(2, 1.0, cv=0.0), sink(3))
    res = simulate(Model(st, (Link(1, 1, 2), Link(2, 2, 3)), calendar={"period_s": 10, "on": [[0, 10]]}),
                   horizon_s=1000, warmup_s=0, replications=1, seed=1)
    assert res["warmup_suggested_s"] >= 0.0


def test_a_forecast_starts_from_the_queues_and_repairs_the_twins_report():
    # Deterministic 2 s machine with 30 parts already waiting and no more arriving (a source too slow to
    # matter within the horizon): it works them off in 60 s, so the cumulative output is exactly 30 by 60 s.
    st = (source(1, 1e9, cv=0.0), machine(2, 2.0, cv=0.0), sink(3))
    ln = (Link(1, 1, 2), Link(2, 2, 3))
    res = simulate(Model(st, ln, initial={"2": {"queue": 30, "down": False}}), horizon_s=96, warmup_s=0,
                   replications=3, seed=1)
    fc = res["forecast"]
    assert fc["t"][-1] == pytest.approx(96.0) and len(fc["t"]) == 48
    assert fc["cumulative"]["mean"][-1] == pytest.approx(30.0)
    assert fc["cumulative"]["lo"][-1] == fc["cumulative"]["hi"][-1] == pytest.approx(30.0)
    assert fc["cumulative"]["mean"][28] == pytest.approx(28.0)  # bins [0, 2), ..., [56, 58): parts done at 2, ..., 56
    # Down now: with MTTR 100 s (exponential) it first waits for the repair, so less is out early on.
    down = simulate(Model((st[0], machine(2, 2.0, cv=0.0, mtbf=1e9, mttr=100.0), st[2]), ln,
                          initial={"2": {"queue": 30, "down": True}}), horizon_s=96, warmup_s=0, replications=20, seed=1)
    assert down["forecast"]["cumulative"]["mean"][-1] < 30.0
    assert down["forecast"]["cumulative"]["lo"][-1] < down["forecast"]["cumulative"]["hi"][-1]
    with pytest.raises(ModelError):
        validate(Model(st, ln, initial={"2": {"queue": -1}}))


def test_bottleneck_shares_over_time_add_up_per_bin():
    # Station 0 active [0, 10], station 1 [5, 20]: bins of 5 s: 0 holds [0, 5), 1 (the longer period) the rest.
    total, per_bin = bottleneck_time([[(0.0, 10.0)], [(5.0, 20.0)]], 0.0, 20.0, 4)
    assert total == [5.0, 15.0]
    assert per_bin == [[5.0, 0.0, 0.0, 0.0], [0.0, 5.0, 5.0, 5.0]]
    st = (source(1), machine(2, 1.0, cv=0.5), machine(3, 1.5, cv=0.5), sink(4))
    res = simulate(Model(st, (Link(1, 1, 2), Link(2, 2, 3, 3), Link(3, 3, 4)), calendar={"period_s": 100, "on": [[0, 100]]}),
                   horizon_s=6000, warmup_s=0, replications=2, seed=1)
    ts = res["bottleneck_timeseries"]
    assert len(ts["3"]) == len(res["timeseries"]["t"])
    assert all(0.0 <= a + b <= 1.0 + 1e-9 for a, b in zip(ts["2"], ts["3"]))
    assert sum(ts["3"]) / len(ts["3"]) == pytest.approx(res["bottleneck_shares"]["3"])


def test_the_line_engine_traces_queues_transit_and_parts_on_conveyors():
    conv = Station(2, "belt", "conveyor", length_m=4.0, speed_mps=1.0, spacing_m=1.0)
    st = (source(1, 2.0, cv=0.0, x=0), conv, machine(3, 3.0, cv=0.0, x=10), sink(4, x=10))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3, None, 2.0), Link(3, 3, 4)))
    res = simulate(model, horizon_s=400, warmup_s=0, replications=1, seed=1)
    tr = res["trace"]
    assert len(tr["t"]) == 200 and tr["states"] == res["playback"]["states"]
    # The machine needs 3 s a part for one every 2 s: its queue only grows.
    q = tr["queues"]["3"]
    assert q[-1] > q[len(q) // 2] > 0
    # A 10 m hop at 2 m/s from the belt (x = 0) to the machine: parts on the way, each 0..1 along it.
    assert any(tr["transit"]["2"]) and all(0 <= f <= 1 for v in tr["transit"]["2"] for f in v)
    # Aboard the 4 m belt: one part every 2 s, each riding 4 s: two at a time, spread along it.
    assert max(len(v) for v in tr["riding"]["2"]) == 2


def test_a_saturated_station_has_one_long_active_period_not_one_per_part():
    # Deterministic 2 s machine fed by an unlimited source behind a 1 s one, ahead of nothing slower: the
    # 2 s machine is busy all the time, its parts end and start at the same instant, so it is the
    # momentary bottleneck the whole time (before the fix its periods were 2 s long, like the other's).
    st = (source(1), machine(2, 1.0, cv=0.0), machine(3, 2.0, cv=0.0), sink(4))
    model = Model(st, (Link(1, 1, 2), Link(2, 2, 3, 2), Link(3, 3, 4)), calendar={"period_s": 1000, "on": [[0, 1000]]})
    res = simulate(model, horizon_s=5000, warmup_s=100, replications=1, seed=1)
    assert res["bottleneck_shares"]["3"] == pytest.approx(1.0, abs=0.01)
    from twins.simulation.line import LineNet, run_line

    net = LineNet(model)
    raw = run_line(net, horizon_s=5000, warmup_s=100, seed=1, replication=0)
    assert raw["periods"][net.ids.index(3)] == [(1.0, 5000.0)]  # from its first part (at 1 s) to the horizon


def test_a_branch_draws_the_same_numbers_as_its_baseline_by_stream_key():
    # A branch copies every asset under a new id but keeps its uid (the stream key): same numbers, so the
    # review's paired comparison of a scenario against its baseline has common random numbers.
    def model(offset, key=True):
        src = Station(1 + offset, "src", "source", mix={"A": 1, "B": 1}, stream_key=9001 if key else None)
        m = Station(2 + offset, "m", "machine", cycle_time_s=2.0, cycle_cv=1.0, setup_time_s=1.0, stream_key=9002 if key else None)
        return Model((src, m, sink(3 + offset)), (Link(1, 1 + offset, 2 + offset), Link(2, 2 + offset, 3 + offset)))
    kw = {"horizon_s": 5000, "warmup_s": 100, "replications": 2, "seed": 5}
    a, b = simulate(model(0), **kw), simulate(model(100), **kw)
    assert a["throughput_per_hour"] == b["throughput_per_hour"] and a["replication_kpis"] == b["replication_kpis"]
    assert simulate(model(100, key=False), **kw)["replication_kpis"] != a["replication_kpis"]
