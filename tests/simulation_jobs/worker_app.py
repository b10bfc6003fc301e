"""The project's Celery app for the test workers, with a short visibility timeout when the test asks.

`celery -A tests.simulation_jobs.worker_app worker` is `celery -A metaverse worker` plus this: Redis only
redelivers a dead worker's unacknowledged message after `visibility_timeout` (an hour in settings), and
the kill -9 test cannot wait that long.
"""
import os

from metaverse.celery import app

if os.environ.get("SIM_TEST_VISIBILITY_TIMEOUT"):
    app.conf.broker_transport_options = {
        "visibility_timeout": float(os.environ["SIM_TEST_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        # The restore sweep takes a mutex that lives this long if its holder is killed mid-sweep (300 s by
        # default): a worker killed at that instant would otherwise block every redelivery for minutes.
        "unacked_mutex_expire": 5,
    }

__all__ = ["app"]
