"""Request body parsing: JSON by orjson (telemetry batches of thousands of points are the big bodies).

Same contract as DRF's strict JSONParser: a malformed body, or the non-standard NaN / Infinity literals, is
a 400 "JSON parse error - …". Two kinds of valid JSON are refused too, for every endpoint at once, because
they would break the request further on:
- nesting deeper than MAX_DEPTH arrays or objects: Python code that walks a document recursively (a copy,
  the audit hash, the database encoder) dies at about 1,000 levels, and no body of this API needs 10;
- a lone UTF-16 surrogate ("\\ud800"): it has no UTF-8 encoding, so no database or socket can take it.
Bodies orjson refuses go through DRF's parser, for its message (with the position in the body) or, for a
lone surrogate, for ours. An integer beyond 64 bits comes back as a float (orjson's choice), so the field
holding one refuses it as not an integer.
"""
import io
import re

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64
TOO_DEEP = f"JSON parse error - nested deeper than {MAX_DEPTH} levels."
SURROGATE = "JSON parse error - a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text."

# orjson refuses documents nested deeper than 1,024 levels. Inside _PAD arrays of our own, that limit is
# MAX_DEPTH levels of the body, checked at C speed: a walk in Python costs as much as the parse itself
# (2.9 ms for a 5,000-point telemetry batch); the padding costs 0.2 ms.
_ORJSON_DEPTH = 1024
_PAD = _ORJSON_DEPTH - MAX_DEPTH
_OPEN, _CLOSE = b"[" * _PAD, b"]" * _PAD
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # Python's json joins valid pairs; what is left is lone


class FastJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            padded = orjson.loads(_OPEN + raw + _CLOSE)
        except orjson.JSONDecodeError as exc:
            if str(exc).startswith("depth limit exceeded"):
                raise ParseError(TOO_DEEP) from None
            return self._parse_slowly(raw, media_type, parser_context)
        data = padded
        for _ in range(_PAD):
            if len(data) != 1:  # the body was not one value ("1, 2", "1], [2", empty): let DRF's parser say why
                return self._parse_slowly(raw, media_type, parser_context)
            data = data[0]
        return data

    def _parse_slowly(self, raw, media_type, parser_context):
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        _refuse_depth_and_surrogates(data)
        return data


def _refuse_depth_and_surrogates(data) -> None:
    """What the orjson path refuses, for a document that only Python's json could read."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                raise ParseError(SURROGATE)
        elif isinstance(node, (dict, list)):
            if depth == MAX_DEPTH:
                raise ParseError(TOO_DEEP)
            items = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((item, depth + 1) for item in items)
