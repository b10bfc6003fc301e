"""Steps shared by the simulation job tests: a line for the event engine, a run, waiting for its end."""
import time

from tests.builders import make_layout
from twins.models import Asset, SimulationRun
from twins.simulation import runner
from twins.simulation_model import model_from_dict

URL = "/api/simulations/"


def general_line(factory):
    """source → M1 → M2 (two servers, exponential) → M3 → sink: not a serial line, so the general engine runs it."""
    layout = make_layout(factory=factory, assets=3, line=True, name="Split line")
    Asset.objects.filter(layout=layout, name="M2").update(params={"capacity": 2, "cycle_cv": 1.0, "cycle_time_s": 18.0})
    Asset.objects.filter(layout=layout, name="M1").update(params={"cycle_cv": 0.5})
    return layout


def create(client, layout, **params):
    body = {"layout": layout.id, "horizon_s": 40_000, "warmup_s": 2_000, "replications": 6, "seed": 11, **params}
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def wait_for(predicate, timeout: float, what: str, workers=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    logs = "\n".join(f"--- {w.name}\n{w.text()[-2500:]}" for w in workers)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")


def finished(run_id):
    run = SimulationRun.objects.get(pk=run_id)
    return run if run.is_finished else None


def in_process(run: SimulationRun) -> dict:
    p = run.params
    return runner.simulate(model_from_dict(p["model"]), horizon_s=p["horizon_s"], warmup_s=p["warmup_s"],
                           replications=p["replications"], seed=p["seed"])
