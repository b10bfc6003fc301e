"""Twins: one per physical machine of a factory, created and renamed by engineers and up, deleted by owners."""
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
    name = _clean_name(key if name is None else name)
    try:
        with transaction.atomic():
            twin = Twin.objects.create(factory=factory, key=key, name=name)
            audit_append(factory_id=factory.id, actor=by, action="twin.create", object_type="twin", object_id=twin.id, data=twin_repr(twin))
    except IntegrityError:
        raise Conflict(f"A twin with key '{key}' already exists in this factory.", current=twin_repr(Twin.objects.get(factory=factory, key=key))) from None
    return twin


def _clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise Invalid("name must be 1-120 characters.", errors={"name": ["1-120 characters."]})
    return name.strip()


def twin_update(*, twin: Twin, changes: dict, by) -> Twin:
    """Rename a twin (engineers and up). Its factory and key are its identity for telemetry: read-only."""
    require_role(user=by, factory_id=twin.factory_id, at_least=Role.ENGINEER, action="change twins")
    unknown = set(changes) - {"name"}
    if unknown:
        raise Invalid(f"Unknown or read-only field(s): {', '.join(sorted(unknown))}.", errors={f: ["Read-only or unknown."] for f in unknown})
    with transaction.atomic():
        if "name" in changes:
            twin.name = _clean_name(changes["name"])
        twin.save(update_fields=["name"])
        audit_append(factory_id=twin.factory_id, actor=by, action="twin.update", object_type="twin", object_id=twin.id, data=twin_repr(twin))
    return twin


def twin_delete(*, twin: Twin, by) -> None:
    """Delete a twin with its telemetry, alarm rules and alarms (owners: history is lost for good)."""
    require_role(user=by, factory_id=twin.factory_id, at_least=Role.OWNER, action="delete twins")
    with transaction.atomic():
        data = twin_repr(twin)
        twin.delete()
        audit_append(factory_id=data["factory"], actor=by, action="twin.delete", object_type="twin", object_id=data["id"], data=data)
