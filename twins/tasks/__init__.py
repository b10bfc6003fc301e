"""Celery tasks of the twins app (autodiscovered as `twins.tasks`)."""
from .plan import *  # noqa: F401,F403
from .simulation import *  # noqa: F401,F403
from .telemetry import *  # noqa: F401,F403
