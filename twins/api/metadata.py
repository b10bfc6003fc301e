"""What `OPTIONS` answers: the endpoint's name, description and media types, not DRF's `actions`.

DRF builds `actions` from each view's serializer, and several views have none on purpose (a service
validates their bodies), so an `OPTIONS` on them was a 500. The schema (/api/schema/) describes the fields.
"""
from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    def determine_actions(self, request, view):
        return {}
