"""REST routes of simulation runs: /api/simulations/ (+ cancel, export)."""
from rest_framework.routers import SimpleRouter

from .views.simulations import SimulationViewSet

router = SimpleRouter(trailing_slash=True)
router.register("simulations", SimulationViewSet, basename="simulation")

urlpatterns = router.urls
