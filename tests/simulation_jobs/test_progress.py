"""`sim.progress` while a run runs (CONTRACT.md §5): a few times a second, also from inside one long
replication, received through the real channel layer; and reporting it changes no number of the results."""
import time

import pytest

from twins.models import SimulationRun
from twins.services import simulations as svc

from .conftest import GroupListener
from .helpers import general_line, in_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_long_replication_reports_growing_progress_a_few_times_a_second(people):
    layout = general_line(people["plant"])
    # One replication of the event engine that takes a second or two (about 1.7 M station visits).
    run = svc.simulation_create(layout=layout, params={"horizon_s": 7_000_000, "warmup_s": 1_000, "replications": 1, "seed": 4},
                                by=people["alice"])
    with GroupListener(f"layout.{layout.id}") as room:
        assert svc.simulation_start(run_id=run.id) == [[0]]
        svc.simulation_run_batch(run_id=run.id, replications=[0])
        run.refresh_from_db()
        assert run.status == "succeeded", run.error
        wait_for(lambda: any(e["status"] == "succeeded" for e in room.sim(run.id)), 5, "the final sim.progress")
        events = room.timed(run.id)
    inside = [(t, e["progress"]) for t, e in events if e["status"] == "running" and 0 < e["progress"] < 1]
    assert len(inside) >= 3, f"only {len(inside)} progress events inside the replication: {events}"
    fractions = [p for _, p in inside]
    assert fractions == sorted(fractions) and len(set(fractions)) == len(fractions)  # growing, never twice the same
    span = inside[-1][0] - inside[0][0]
    assert len(inside) <= 4 * span + 2  # a few a second, not one per engine check
    assert [e["status"] for _, e in events][-1] == "succeeded" and run.progress == 1.0
    assert run.results == in_process(run)


def test_progress_is_recorded_on_the_run_and_never_goes_back(people):
    layout = general_line(people["plant"])
    run = svc.simulation_create(layout=layout, params={"horizon_s": 10_000, "warmup_s": 0, "replications": 4, "seed": 1},
                                by=people["alice"])
    svc.simulation_start(run_id=run.id)
    with GroupListener(f"layout.{layout.id}") as room:
        svc.simulation_progress(run_id=run.id, layout_id=layout.id, progress=0.5)
        time.sleep(1.5 * svc.PUBLISH_INTERVAL_S)  # past the throttle, so that only the step back keeps it quiet
        svc.simulation_progress(run_id=run.id, layout_id=layout.id, progress=0.25)  # a worker that lags behind
        assert SimulationRun.objects.get(pk=run.id).progress == 0.5
        svc.simulation_cancel(run=run, by=people["alice"])
        wait_for(lambda: len(room.sim(run.id)) >= 2, 5, "the cancelled sim.progress")
    assert [(e["status"], e["progress"]) for e in room.sim(run.id)] == [("running", 0.5), ("cancelled", 0.5)]
