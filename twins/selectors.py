"""Reads that depend on who is asking: a user sees only the factories they belong to (staff see all)."""
from django.db.models import QuerySet

from .errors import NotFound
from .models import Asset, Connection, Factory, Layout, Membership, Role, SimulationRun, Twin


def role_for(*, user, factory_id: int) -> str | None:
    """The user's role in a factory; staff act as owners everywhere; None for non-members."""
    if not user or not user.is_authenticated:
        return None
    if user.is_staff:
        return Role.OWNER
    return Membership.objects.filter(user=user, factory_id=factory_id).values_list("role", flat=True).first()


def has_role(*, user, factory_id: int, at_least: str) -> bool:
    return Role.rank(role_for(user=user, factory_id=factory_id)) >= Role.rank(at_least)


def factories_for_user(*, user) -> QuerySet[Factory]:
    qs = Factory.objects.all()
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.is_staff:
        return qs
    return qs.filter(memberships__user=user).distinct()


def factory_ids_for_user(*, user):
    return factories_for_user(user=user).values("id")


def layouts_for_user(*, user) -> QuerySet[Layout]:
    return Layout.objects.filter(factory__in=factory_ids_for_user(user=user)).select_related("factory", "created_by")


def assets_for_user(*, user) -> QuerySet[Asset]:
    return Asset.objects.filter(layout__factory__in=factory_ids_for_user(user=user))


def connections_for_user(*, user) -> QuerySet[Connection]:
    return Connection.objects.filter(layout__factory__in=factory_ids_for_user(user=user))


def twins_for_user(*, user) -> QuerySet[Twin]:
    return Twin.objects.filter(factory__in=factory_ids_for_user(user=user))


def simulations_for_user(*, user) -> QuerySet[SimulationRun]:
    return SimulationRun.objects.filter(layout__factory__in=factory_ids_for_user(user=user)).select_related("layout", "created_by")


def layout_for_user(*, user, layout_id) -> Layout:
    layout = layouts_for_user(user=user).filter(pk=layout_id).first()
    if layout is None:
        raise NotFound("No such layout.")
    return layout


def layout_scene(*, layout: Layout, user) -> dict:
    """Everything the 3D view needs in one payload (CONTRACT.md §3 `scene`)."""
    from .models import AssetType
    from .representations import asset_repr, asset_type_repr, connection_repr, factory_info, layout_repr

    assets = list(Asset.objects.filter(layout=layout).order_by("id"))
    layout_data = layout_repr(layout)
    layout_data["my_role"] = role_for(user=user, factory_id=layout.factory_id)
    layout_data["factory_info"] = factory_info(layout.factory)
    keys = {a.twin_key for a in assets if a.twin_key}
    twins = Twin.objects.filter(factory_id=layout.factory_id, key__in=keys) if keys else []
    return {
        "layout": layout_data,
        "asset_types": [asset_type_repr(t) for t in AssetType.objects.all()],
        "assets": [asset_repr(a) for a in assets],
        "connections": [connection_repr(c) for c in Connection.objects.filter(layout=layout).order_by("id")],
        "twins": [{"id": t.id, "key": t.key, "name": t.name, "status": t.status, "values": t.values} for t in twins],
        "seq": layout.revision,
    }
