"""The Celery application: simulation runs, telemetry roll-ups, the demo feed."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metaverse.settings")

app = Celery("metaverse")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
