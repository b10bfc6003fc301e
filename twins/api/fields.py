"""Small helpers shared by the API views: query-parameter ids and the version from body or If-Match."""
from ..errors import Invalid


def int_param(request, name: str, *, required: bool = False):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise Invalid(f"The query parameter '{name}' is required.", errors={name: ["This parameter is required."]})
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid(f"'{name}' must be an integer id.", errors={name: ["Must be an integer."]}) from None


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
