"""The simulation watchdog, on Celery beat: a run whose messages a Redis restart or flush took away is sent
again, so that no run stays `queued` or `running` for good (the replications it finished are in the
database and are not run twice)."""
import logging

from ..models import SimulationRun
from .simulations import simulation_recover

log = logging.getLogger(__name__)


def simulation_watchdog() -> list[int]:
    """Check every unfinished run; the ids of those whose work was sent again."""
    resent = []
    for run_id in SimulationRun.objects.filter(status__in=[SimulationRun.Status.QUEUED, SimulationRun.Status.RUNNING]
                                               ).order_by("id").values_list("id", flat=True):
        if simulation_recover(run_id=run_id):
            resent.append(run_id)
    from .experiments import experiments_recover

    experiments_recover()  # an experiment whose point ended while its hook was lost moves on
    return resent
