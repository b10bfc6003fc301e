"""Twins: one per physical machine of a factory, created by engineers and up."""
import re

from django.db import IntegrityError, transaction

from collaboration.audit import audit_append

from ..errors import Conflict, Invalid
from ..models import Factory, Role, Twin
from .common import require_role
from .telemetry_repr import twin_repr

KEY_RE = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")


def twin_create(*, factory: Factory, key, name, by) -> Twin:
    require_role(user=by, factory_id=factory.id, at_least=Role.ENGINEER, action="create twins")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise Invalid("key must be 1-80 letters, digits, - or _.", errors={"key": ["Letters, digits, - or _ (at most 80)."]})
    if name is None:
        name = key
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise Invalid("name must be 1-120 characters.", errors={"name": ["1-120 characters."]})
    try:
        with transaction.atomic():
            twin = Twin.objects.create(factory=factory, key=key, name=name.strip())
            audit_append(factory_id=factory.id, actor=by, action="twin.create", object_type="twin", object_id=twin.id, data=twin_repr(twin))
    except IntegrityError:
        raise Conflict(f"A twin with key '{key}' already exists in this factory.", current=twin_repr(Twin.objects.get(factory=factory, key=key))) from None
    return twin
