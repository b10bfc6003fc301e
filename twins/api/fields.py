"""Small helpers shared by the API views: query-parameter ids and the version from body or If-Match."""
import re

from ..errors import Invalid

# What the database can compare with an id: a signed 64-bit integer, in ASCII digits (Python's int() also
# takes "1_000", " 7 " and other scripts' digits, which no client means as an id).
_INTEGER = re.compile(r"-?[0-9]+")
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


def int_param(request, name: str, *, required: bool = False):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise Invalid(f"The query parameter '{name}' is required.", errors={name: ["This parameter is required."]})
        return None
    if not _INTEGER.fullmatch(raw):
        raise Invalid(f"'{name}' must be an integer id.", errors={name: ["Must be an integer."]})
    value = int(raw) if len(raw.lstrip("-").lstrip("0")) <= 19 else None  # int() refuses 4,300 digits and more
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        raise Invalid(f"'{name}' is out of range (a 64-bit integer).", errors={name: ["Out of range."]})
    return value


def request_version(request):
    """`version` from the JSON body, else from `If-Match: "<version>"` (CONTRACT.md §3)."""
    data = request.data if isinstance(request.data, dict) else {}
    version = data.get("version")
    if version is None:
        header = request.headers.get("If-Match", "").strip()
        if header.startswith("W/"):
            header = header[2:]
        header = header.strip('"')
        if header:
            try:
                version = int(header)
            except ValueError:
                raise Invalid("If-Match must hold the version number, e.g. If-Match: \"3\".") from None
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise Invalid("version must be an integer.", errors={"version": ["Must be an integer."]})
    return version


def body_dict(request) -> dict:
    """The JSON body as a dict; anything else (a list, a string) is a clear 400, never a 500."""
    if not isinstance(request.data, dict):
        raise Invalid("The request body must be a JSON object.")
    return dict(request.data)
