"""Several assets of one layout changed as one change: one revision, one audit entry, one `applied` event.

The event's kind is `assets.update` and its `object` is `{"assets": [full asset state, ...]}` (each with its
new `version`). A server-side change such as a calibration computes its values from the assets as they stand
under the layout lock, so it carries no client versions; soft locks still hold (another user's drag wins).
"""
from django.db import transaction

from ..errors import Invalid, NotFound
from ..models import Asset
from ..representations import asset_repr
from .assets import _clean
from .common import check_lock, lock_layout, record_change, require_editable

KIND = "assets.update"


def assets_update(*, layout, changes: dict[int, dict], by, op_id=None, audit_data=None) -> list[Asset]:
    """Apply `{asset_id: changes}` (the REST field names) to assets of `layout`; nothing when `changes` is empty."""
    if not isinstance(changes, dict) or not changes:
        raise Invalid("changes must name at least one asset.")
    cleaned = {asset_id: _clean(c, layout=layout.pk, partial=True) for asset_id, c in changes.items()}
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        require_editable(layout, user=by)
        current = {a.pk: a for a in Asset.objects.select_for_update().filter(layout=layout, pk__in=list(cleaned)).order_by("id")}
        missing = sorted(set(cleaned) - set(current))
        if missing:
            raise NotFound(f"No such asset in this layout: {', '.join(map(str, missing))}.")
        fields = {"version"}
        for asset_id, asset in current.items():
            check_lock(asset_id, user=by)
            for field, value in cleaned[asset_id].items():
                setattr(asset, field, value)
                fields.add(field)
            asset.version += 1
        Asset.objects.bulk_update(list(current.values()), sorted(fields))
        record_change(layout=layout, by=by, kind=KIND, obj={"assets": [asset_repr(a) for a in current.values()]},
                      op_id=op_id, audit_data=audit_data)
    return list(current.values())
