"""REST routes of simulation runs (/api/simulations/, + cancel, export, compare) and experiments."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from .views.experiments import CompareRunsView, ExperimentViewSet
from .views.simulations import SimulationViewSet

router = SimpleRouter(trailing_slash=True)
router.register("simulations", SimulationViewSet, basename="simulation")
router.register("experiments", ExperimentViewSet, basename="experiment")

urlpatterns = [path("simulations/compare/", CompareRunsView.as_view(), name="simulation-compare"), *router.urls]
