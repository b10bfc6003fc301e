"""Connections carry parts between two assets of the same layout."""
from django.db import transaction

from ..errors import Conflict, Invalid, NotFound
from ..models import Asset, Connection
from ..representations import connection_repr
from .common import finite_number, lock_layout, record_change, require_editable
from .params import MAX_TYPES, clean_type_name

FIELDS = {"source", "target", "buffer_capacity", "transport_speed_mps", "weight", "part_types", "quantity"}
MAX_QUANTITY = 1000


def _clean_part_types(value) -> list | None:
    """CONTRACT §7: the part types a connection accepts, a list of distinct names; null = every type."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise Invalid("part_types must be a non-empty list of part type names, or null for every type.",
                      errors={"part_types": ["A non-empty list of names, or null."]})
    if len(value) > MAX_TYPES:
        raise Invalid(f"part_types: at most {MAX_TYPES} part types (got {len(value)}).", errors={"part_types": [f"At most {MAX_TYPES} types."]})
    names = [clean_type_name(name, where="part_types") for name in value]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise Invalid(f"part_types names {', '.join(repeated)} more than once.", errors={"part_types": ["Each type once."]})
    return names


def _clean(data: dict, *, layout, partial: bool) -> dict:
    if not isinstance(data, dict):
        raise Invalid("data must be an object.")
    unknown = set(data) - FIELDS - {"layout", "uid"}
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", errors={f: ["Unknown field."] for f in unknown})
    cleaned = {}
    for end in ("source", "target"):
        if end in data:
            if partial:
                raise Invalid(f"{end} cannot be changed; delete the connection and create a new one.", errors={end: ["Read-only."]})
            value = data[end]
            if isinstance(value, bool) or not isinstance(value, int):
                raise Invalid(f"{end} must be an asset id.", errors={end: ["Must be an asset id."]})
            asset = Asset.objects.filter(pk=value).first()
            if asset is None or asset.layout_id != layout.id:
                raise Invalid(f"{end} asset {value} is not in layout {layout.id}.", errors={end: [f"Asset {value} is not in this layout."]})
            cleaned[f"{end}_id"] = value
        elif not partial:
            raise Invalid(f"{end} is required.", errors={end: ["This field is required."]})
    if "buffer_capacity" in data:
        cleaned["buffer_capacity"] = finite_number(data["buffer_capacity"], field="buffer_capacity", minimum=0, maximum=100_000, allow_none=True, integer=True)
    if "transport_speed_mps" in data:
        speed = finite_number(data["transport_speed_mps"], field="transport_speed_mps", minimum=0, maximum=1000, allow_none=True)
        if speed is not None and speed <= 0:
            raise Invalid("transport_speed_mps must be greater than 0 (or null for no transport time).", errors={"transport_speed_mps": ["Must be > 0."]})
        cleaned["transport_speed_mps"] = speed
    if "weight" in data:
        cleaned["weight"] = finite_number(data["weight"], field="weight", minimum=0, maximum=1e6)
    if "part_types" in data:
        cleaned["part_types"] = _clean_part_types(data["part_types"])
    if "quantity" in data:
        cleaned["quantity"] = finite_number(data["quantity"], field="quantity", minimum=1, maximum=MAX_QUANTITY, integer=True)
    if not partial:
        if cleaned["source_id"] == cleaned["target_id"]:
            raise Invalid(f"A connection cannot go from asset {cleaned['source_id']} to itself.", errors={"target": ["Same as source."]})
        if Connection.objects.filter(source_id=cleaned["source_id"], target_id=cleaned["target_id"]).exists():
            raise Invalid(f"Asset {cleaned['source_id']} is already connected to asset {cleaned['target_id']}.", errors={"target": ["Duplicate connection."]})
    return cleaned


def connection_create(*, layout, data: dict, by, op_id=None) -> Connection:
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        require_editable(layout, user=by)
        cleaned = _clean(data, layout=layout, partial=False)
        connection = Connection.objects.create(layout=layout, **cleaned)
        record_change(layout=layout, by=by, kind="connection.create", obj=connection_repr(connection), op_id=op_id)
    return connection


def connection_update(*, connection: Connection, changes: dict, by, version=None, op_id=None) -> Connection:
    with transaction.atomic():
        layout = lock_layout(connection.layout_id)
        require_editable(layout, user=by)
        current = Connection.objects.select_for_update().filter(pk=connection.pk).first()
        if current is None:
            raise NotFound("This connection has been deleted.")
        if version is not None and version != current.version:
            raise Conflict("Someone changed this connection since you loaded it.", current=connection_repr(current))
        for field, value in _clean(changes, layout=layout, partial=True).items():
            setattr(current, field, value)
        current.version += 1
        current.save()
        record_change(layout=layout, by=by, kind="connection.update", obj=connection_repr(current), op_id=op_id)
    return current


def connection_delete(*, connection: Connection, by, op_id=None) -> None:
    with transaction.atomic():
        layout = lock_layout(connection.layout_id)
        require_editable(layout, user=by)
        current = Connection.objects.select_for_update().filter(pk=connection.pk).first()
        if current is None:
            raise NotFound("This connection has already been deleted.")
        connection_id = current.pk
        current.delete()
        record_change(layout=layout, by=by, kind="connection.delete", obj={"id": connection_id, "deleted": True}, op_id=op_id)
