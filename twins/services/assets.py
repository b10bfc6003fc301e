"""Create, update and delete placed assets with optimistic concurrency on `version`."""
import uuid

from django.db import transaction

from ..errors import Conflict, Invalid, NotFound
from ..models import Asset, AssetType
from ..representations import asset_repr
from .common import check_lock, finite_number, lock_layout, record_change, require_editable
from .params import clean_params

EDITABLE_FIELDS = {"name", "asset_type", "twin_key", "x", "z", "rotation_deg", "params"}
COORD_LIMIT = 10_000.0


def _clean(changes: dict, *, layout, partial: bool) -> dict:
    if not isinstance(changes, dict):
        raise Invalid("changes must be an object.")
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise Invalid(f"Unknown or read-only field(s): {', '.join(sorted(unknown))}.", errors={f: ["Unknown or read-only field."] for f in unknown})
    cleaned = {}
    for field in ("x", "z"):
        if field in changes:
            cleaned[field] = finite_number(changes[field], field=field, minimum=-COORD_LIMIT, maximum=COORD_LIMIT)
    if "rotation_deg" in changes:
        cleaned["rotation_deg"] = finite_number(changes["rotation_deg"], field="rotation_deg", minimum=-36000, maximum=36000) % 360.0
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            raise Invalid("name must be a non-empty string of at most 120 characters.", errors={"name": ["1–120 characters."]})
        cleaned["name"] = name.strip()
    if "twin_key" in changes:
        key = changes["twin_key"] or ""
        if not isinstance(key, str) or len(key) > 80 or (key and not all(c.isalnum() or c in "-_" for c in key)):
            raise Invalid("twin_key must be a slug (letters, digits, - and _).", errors={"twin_key": ["Must be a slug."]})
        cleaned["twin_key"] = key
    if "asset_type" in changes:
        type_id = changes["asset_type"]
        if isinstance(type_id, bool) or not isinstance(type_id, int) or not AssetType.objects.filter(pk=type_id).exists():
            raise Invalid("asset_type does not exist.", errors={"asset_type": ["No such asset type."]})
        cleaned["asset_type_id"] = type_id
    if "params" in changes:
        cleaned["params"] = clean_params(changes["params"], layout=layout)
    if not partial:
        for required in ("asset_type_id",):
            if required not in cleaned:
                raise Invalid("asset_type is required.", errors={"asset_type": ["This field is required."]})
    return cleaned


def asset_create(*, layout, data: dict, by, op_id=None) -> Asset:
    data = dict(data or {})
    data.pop("layout", None)
    uid = data.pop("uid", None)
    cleaned = _clean(data, layout=layout, partial=False)
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        require_editable(layout, user=by)
        if "name" not in cleaned:
            kind_name = AssetType.objects.get(pk=cleaned["asset_type_id"]).name
            cleaned["name"] = f"{kind_name}-{Asset.objects.filter(layout=layout).count() + 1}"
        asset = Asset(layout=layout, **cleaned)
        if uid:
            try:
                asset.uid = uuid.UUID(str(uid))
            except ValueError:
                raise Invalid("uid must be a UUID.", errors={"uid": ["Must be a UUID."]}) from None
            if Asset.objects.filter(layout=layout, uid=asset.uid).exists():
                raise Invalid("An asset with this uid already exists in the layout.", errors={"uid": ["Duplicate."]})
        asset.save()
        record_change(layout=layout, by=by, kind="asset.create", obj=asset_repr(asset), op_id=op_id)
    return asset


def _lock_current(asset: Asset, *, version, by, gone: str) -> tuple:
    """Inside the caller's transaction: lock the layout and the asset, then check role, version and soft lock."""
    layout = lock_layout(asset.layout_id)
    require_editable(layout, user=by)
    current = Asset.objects.select_for_update().filter(pk=asset.pk).first()
    if current is None:
        raise NotFound(gone)
    if version is None:
        raise Invalid("version is required (in the body or as If-Match).", errors={"version": ["This field is required."]})
    if version != current.version:
        raise Conflict("Someone changed this asset since you loaded it.", current=asset_repr(current))
    check_lock(current.pk, user=by)
    return layout, current


def asset_update(*, asset: Asset, changes: dict, version, by, op_id=None) -> Asset:
    cleaned = _clean(changes, layout=asset.layout_id, partial=True)
    with transaction.atomic():
        layout, current = _lock_current(asset, version=version, by=by, gone="This asset has been deleted.")
        for field, value in cleaned.items():
            setattr(current, field, value)
        current.version += 1
        current.save()
        record_change(layout=layout, by=by, kind="asset.update", obj=asset_repr(current), op_id=op_id)
    return current


def asset_delete(*, asset: Asset, version, by, op_id=None) -> None:
    with transaction.atomic():
        layout, current = _lock_current(asset, version=version, by=by, gone="This asset has already been deleted.")
        asset_id = current.pk
        removed = list(current.outgoing.values_list("id", flat=True)) + list(current.incoming.values_list("id", flat=True))
        current.delete()
        record_change(layout=layout, by=by, kind="asset.delete", obj={"id": asset_id, "deleted": True},
                      op_id=op_id, audit_data={"id": asset_id, "deleted": True, "connections_removed": removed})
