"""Domain errors raised by services; every interface (REST, websocket, admin, task) maps them the same way.

`code` is one of the websocket `rejected` codes of CONTRACT.md §5; REST maps them to HTTP statuses.
"""


class ServiceError(Exception):
    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, current: dict | None = None, field: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.current = current
        self.field = field
        self.errors = errors

    def as_dict(self) -> dict:
        body = {"detail": self.message, "code": self.code}
        if self.errors:
            body.update(self.errors)
        if self.current is not None:
            body["current"] = self.current
        return body


class Invalid(ServiceError):
    code = "invalid"
    http_status = 400


class Forbidden(ServiceError):
    code = "forbidden"
    http_status = 403


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class Conflict(ServiceError):
    code = "conflict"
    http_status = 409


class Locked(ServiceError):
    code = "locked"
    http_status = 423
