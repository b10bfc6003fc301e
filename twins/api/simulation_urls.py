"""REST routes of this area (filled in by its own issue)."""
urlpatterns = []
