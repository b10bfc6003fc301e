"""Response rendering for the big payloads (the scene: thousands of assets and connections) by orjson.

Only for responses built from the representations (twins/representations.py), which hold JSON-native values
already (strings for uids and times), so the bytes mean the same as DRF's JSONRenderer's, about 10× sooner.
"""
import orjson
from rest_framework.renderers import JSONRenderer


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data)
