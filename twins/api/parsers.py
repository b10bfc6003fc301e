"""Request body parsing: JSON by orjson (telemetry batches of thousands of points are the big bodies).

Same contract as DRF's strict JSONParser: a malformed body, or the non-standard NaN / Infinity literals, is
a 400 "JSON parse error - …". The few bodies orjson refuses that are valid JSON (integers beyond 64 bits)
go through DRF's parser, so that the field holding one gets its own clear error.
"""
import io

import orjson
from rest_framework.parsers import JSONParser


class FastJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
