"""A layout that cannot run is refused with a ModelError naming the asset or the connection at fault."""
import math

import pytest
from sim_builders import line, machine, sink, source

from twins.simulation.model import Link, Model, ModelError, Station
from twins.simulation.runner import simulate
from twins.simulation.validate import validate


def culprit(model):
    with pytest.raises(ModelError) as info:
        validate(model)
    return info.value


def ok_line():
    return line(machine(0, 3.0))  # source 1 -> machine 2 -> sink 3, links 100, 101


def with_links(model, *links):
    return Model(model.stations, model.links + tuple(links))


def with_station(model, station):
    return Model(model.stations + (station,), model.links)


def replace_station(model, station):
    return Model(tuple(station if s.id == station.id else s for s in model.stations), model.links)


def test_valid_line_passes():
    validate(ok_line())


def test_no_source_is_refused():
    err = culprit(Model((machine(2, 3.0), sink(3)), (Link(1, 2, 3),)))
    assert "no source" in err.message and err.asset is None


def test_no_sink_is_refused():
    err = culprit(Model((source(1), machine(2, 3.0)), (Link(1, 1, 2),)))
    assert "no sink" in err.message


def test_self_loop_names_the_connection():
    assert culprit(with_links(ok_line(), Link(7, 2, 2, None))).connection == 7


def test_link_to_unknown_station_names_the_connection():
    assert culprit(with_links(ok_line(), Link(8, 2, 99))).connection == 8


def test_unreachable_station_is_named():
    model = with_links(with_station(ok_line(), machine(5, 2.0)), Link(9, 5, 3))
    assert culprit(model).asset == 5


def test_station_that_cannot_reach_a_sink_is_named():
    model = with_links(with_station(ok_line(), machine(5, 2.0)), Link(9, 2, 5))
    err = culprit(model)
    assert err.asset == 5 and "sink" in err.message


def test_machine_without_positive_cycle_time_is_named():
    assert culprit(replace_station(ok_line(), machine(2, 0.0))).asset == 2
    assert culprit(replace_station(ok_line(), machine(2, None))).asset == 2


@pytest.mark.parametrize("station", [
    machine(2, -1.0), machine(2, math.nan), machine(2, 3.0, cv=-0.5), machine(2, 3.0, cv=math.nan),
    machine(2, 3.0, capacity=0), machine(2, 3.0, mtbf=100.0), machine(2, 3.0, mtbf=-5.0, mttr=1.0),
    machine(2, 3.0, mtbf=100.0, mttr=math.inf),
], ids=["negative", "nan", "cv<0", "cv nan", "capacity 0", "mtbf without mttr", "mtbf<0", "mttr inf"])
def test_bad_station_params_are_named(station):
    assert culprit(replace_station(ok_line(), station)).asset == 2


def test_bad_interarrival_is_named():
    assert culprit(replace_station(ok_line(), source(1, -3.0))).asset == 1


@pytest.mark.parametrize("link", [
    Link(101, 2, 3, -1), Link(101, 2, 3, None, -2.0), Link(101, 2, 3, None, math.nan), Link(101, 2, 3, weight=0),
    Link(101, 2, 3, 0, 1.0),
], ids=["negative buffer", "negative speed", "nan speed", "zero weight", "transport into zero slots"])
def test_bad_connection_params_are_named(link):
    model = Model(ok_line().stations, (ok_line().links[0], link))
    assert culprit(model).connection == 101


def test_link_into_a_source_is_refused():
    err = culprit(with_links(ok_line(), Link(9, 2, 1)))
    assert err.connection == 9 and "source" in err.message


def test_link_out_of_a_sink_is_refused():
    err = culprit(with_links(ok_line(), Link(9, 3, 2)))
    assert err.connection == 9 and "sink" in err.message


def test_duplicate_connection_is_refused():
    assert culprit(with_links(ok_line(), Link(9, 1, 2))).connection == 9


def test_cycle_of_finite_buffers_is_refused_as_a_possible_deadlock():
    model = line(machine(0, 3.0), machine(0, 3.0), buffers=2)  # 1 -> 2 -> 3 -> 4
    err = culprit(with_links(model, Link(9, 3, 2, 2)))
    assert err.connection in (9, 101) and "deadlock" in err.message


def test_cycle_with_an_unbounded_connection_is_accepted():
    model = line(machine(0, 3.0), machine(0, 3.0), buffers=2)
    validate(with_links(model, Link(9, 3, 2, None)))


def test_operators_and_decor_are_scenery_but_cannot_be_linked():
    model = with_station(ok_line(), Station(50, "forklift driver", "operator"))
    validate(model)
    assert culprit(with_links(model, Link(9, 2, 50))).connection == 9


def test_simulate_refuses_bad_run_parameters():
    for kw in ({"horizon_s": 100, "warmup_s": 100}, {"horizon_s": -1, "warmup_s": 0},
               {"horizon_s": 100, "warmup_s": 0, "replications": 0}, {"horizon_s": 100, "warmup_s": 0, "seed": -1}):
        args = {"replications": 1, "seed": 0} | kw
        with pytest.raises(ModelError):
            simulate(ok_line(), **args)
