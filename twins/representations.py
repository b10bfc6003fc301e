"""The one JSON shape of each object, shared by REST responses and websocket events (byte for byte)."""
from .models import Asset, AssetType, Connection, Factory, Layout


def _dt(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def asset_repr(asset: Asset) -> dict:
    return {
        "id": asset.id,
        "uid": str(asset.uid),
        "layout": asset.layout_id,
        "asset_type": asset.asset_type_id,
        "name": asset.name,
        "twin_key": asset.twin_key,
        "x": asset.x,
        "z": asset.z,
        "rotation_deg": asset.rotation_deg,
        "params": asset.params,
        "version": asset.version,
    }


def connection_repr(connection: Connection) -> dict:
    return {
        "id": connection.id,
        "uid": str(connection.uid),
        "layout": connection.layout_id,
        "source": connection.source_id,
        "target": connection.target_id,
        "buffer_capacity": connection.buffer_capacity,
        "transport_speed_mps": connection.transport_speed_mps,
        "weight": connection.weight,
        "part_types": connection.part_types,
        "quantity": connection.quantity,
        "version": connection.version,
    }


def layout_repr(layout: Layout) -> dict:
    return {
        "id": layout.id,
        "factory": layout.factory_id,
        "name": layout.name,
        "description": layout.description,
        "parent": layout.parent_id,
        "status": layout.status,
        "revision": layout.revision,
        "content_revision": layout.content_revision,  # runs of an older revision are stale (extension)
        "reject_reason": layout.reject_reason,
        "created_by": layout.created_by.username if layout.created_by_id else None,
        "created_at": _dt(layout.created_at),
        "updated_at": _dt(layout.updated_at),
    }


def asset_type_repr(asset_type: AssetType) -> dict:
    return {
        "id": asset_type.id,
        "name": asset_type.name,
        "kind": asset_type.kind,
        "width_m": asset_type.width_m,
        "depth_m": asset_type.depth_m,
        "height_m": asset_type.height_m,
        "clearance_m": asset_type.clearance_m,
        "color": asset_type.color,
        "model_url": asset_type.model_url,
        "model_far_url": asset_type.model_far_url,
        "defaults": asset_type.defaults,
    }


def factory_info(factory: Factory) -> dict:
    return {
        "id": factory.id,
        "name": factory.name,
        "slug": factory.slug,
        "floor_width_m": factory.floor_width_m,
        "floor_depth_m": factory.floor_depth_m,
        "baseline_layout": factory.baseline_layout_id,
    }
