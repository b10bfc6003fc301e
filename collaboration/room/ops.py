"""The synchronous, database side of the room: who may join, and ops applied through the same services as REST."""
from twins.errors import Forbidden, NotFound
from twins.models import Asset, Connection, Layout, Role
from twins.selectors import layout_scene, role_for
from twins.services.assets import asset_create, asset_delete, asset_update
from twins.services.connections import connection_create, connection_delete

from ..protocol import AssetCreateOp, AssetDeleteOp, AssetUpdateOp, ConnectionCreateOp, ConnectionDeleteOp

PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#9a6324",
           "#469990", "#800000", "#808000", "#000075"]


def color_for(user_id: int) -> str:
    return PALETTE[(user_id * 7) % len(PALETTE)]


def room_access(*, user, layout_id: int) -> tuple[int | None, int | None, str | None]:
    """(close code or None, factory id, role) for a user entering a layout's room."""
    factory_id = Layout.objects.filter(pk=layout_id).values_list("factory_id", flat=True).first()
    if factory_id is None:
        return 4404, None, None
    role = role_for(user=user, factory_id=factory_id)
    if role is None:
        return 4403, factory_id, None
    return None, factory_id, role


def _asset(layout_id: int, asset_id: int) -> Asset:
    asset = Asset.objects.filter(pk=asset_id, layout_id=layout_id).first()
    if asset is None:
        raise NotFound(f"Asset {asset_id} is not in this layout.")
    return asset


def apply_op(*, user, layout_id: int, op) -> None:
    """Run one `op` frame through its service; ServiceErrors propagate to become `rejected`."""
    layout = Layout.objects.filter(pk=layout_id).first()
    if layout is None:
        raise NotFound("This layout has been deleted.")
    if isinstance(op, AssetUpdateOp):
        asset_update(asset=_asset(layout_id, op.asset), changes=op.changes, version=op.version, by=user, op_id=op.id)
    elif isinstance(op, AssetCreateOp):
        asset_create(layout=layout, data=op.data, by=user, op_id=op.id)
    elif isinstance(op, AssetDeleteOp):
        asset_delete(asset=_asset(layout_id, op.asset), version=op.version, by=user, op_id=op.id)
    elif isinstance(op, ConnectionCreateOp):
        connection_create(layout=layout, data=op.data, by=user, op_id=op.id)
    elif isinstance(op, ConnectionDeleteOp):
        connection = Connection.objects.filter(pk=op.connection, layout_id=layout_id).first()
        if connection is None:
            raise NotFound(f"Connection {op.connection} is not in this layout.")
        connection_delete(connection=connection, by=user, op_id=op.id)


def check_lockable(*, user, layout_id: int, asset_id: int) -> None:
    """Only those who may edit the layout may lock its assets (a viewer's lock would block the editors)."""
    layout = Layout.objects.filter(pk=layout_id).first()
    if layout is None:
        raise NotFound("This layout has been deleted.")
    if Role.rank(role_for(user=user, factory_id=layout.factory_id)) < Role.rank(Role.ENGINEER):
        raise Forbidden("You need the engineer role or higher to lock assets.")
    if not layout.is_editable:
        raise Forbidden(f"Layout '{layout.name}' is {layout.status} and read-only.")
    _asset(layout_id, asset_id)


def scene(*, user, layout_id: int) -> dict:
    layout = Layout.objects.select_related("factory", "created_by").get(pk=layout_id)
    return layout_scene(layout=layout, user=user)
