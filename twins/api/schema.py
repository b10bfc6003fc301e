"""The 4xx answers of every operation in the OpenAPI schema (a drf-spectacular postprocessing hook).

Views declare their success bodies and the errors special to them (409 on a stale version or a finished
run, 423 on a locked asset, 429 on login). The answers that follow from how every endpoint works are added
here, so that no view has to repeat them and a new endpoint is documented the day it lands:
- 400 when the operation takes a body or query parameters, or changes something (malformed JSON, a failed
  validation, a missing `If-Match` version);
- 403 when it takes credentials (not signed in, a role that may not, a missing CSRF token); 401 as well
  when the first authentication class answers with a challenge (DRF says 401 only then);
- 404 when it names an object in its path, or takes a body or query parameters and credentials (an id that
  does not exist or that the user may not see; a page past the end);
- 415 when it takes a body (one in a media type it does not parse).
Each is an `Error`: `{"detail", "code"}` and, for a failed validation, one list of messages per field.
A response a view declared itself is never replaced.
"""
from drf_spectacular.utils import OpenApiResponse
from rest_framework.settings import api_settings

ERROR = {
    "type": "object",
    "description": "What went wrong: `detail` in words, `code` for a service error, and for a failed "
                   "validation one list of messages per field.",
    "properties": {
        "detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "code": {"type": "string", "description": "invalid, forbidden, not_found, conflict or locked"},
    },
    "additionalProperties": True,
}
REF = {"$ref": "#/components/schemas/Error"}
DESCRIPTIONS = {
    400: "Bad input: malformed JSON, a failed validation or a bad query parameter; nothing changed.",
    401: "No valid credentials.",
    403: "Not signed in, a role that may not do this, or a missing CSRF token.",
    404: "No such object, or one the user may not see; or a page past the end.",
    415: "The body is in a media type this operation does not parse.",
}
METHODS = {"get", "post", "put", "patch", "delete"}


def _first_authenticator_challenges() -> bool:
    classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    return bool(classes) and bool(classes[0]().authenticate_header(None))


def _applicable(method: str, operation: dict, *, challenges: bool) -> list[int]:
    parameters = operation.get("parameters", [])
    takes_input = "requestBody" in operation or any(p["in"] == "query" for p in parameters)
    security = operation.get("security", [])
    credentials = any(requirement for requirement in security)
    required = credentials and {} not in security
    codes = []
    if takes_input or method != "get":
        codes.append(400)
    if required and challenges:
        codes.append(401)
    if credentials:
        codes.append(403)
    if any(p["in"] == "path" for p in parameters) or (takes_input and credentials):
        codes.append(404)
    if "requestBody" in operation:
        codes.append(415)
    return codes


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    challenges = _first_authenticator_challenges()
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in _applicable(method, operation, challenges=challenges):
                responses.setdefault(str(code), {"content": {"application/json": {"schema": REF}}, "description": DESCRIPTIONS[code]})
    return result


def error_response(description: str) -> OpenApiResponse:
    """An error a view declares itself (409, 423, …), with the same `Error` body."""
    return OpenApiResponse(REF, description=description)
