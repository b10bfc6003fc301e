"""Builders for readable tests: a few named people and small plants (STYLE.md)."""
import itertools

from django.contrib.auth import get_user_model

from twins.models import Asset, AssetType, Connection, Factory, Layout, Membership, Role

_n = itertools.count(1)


def make_user(username: str, *, password: str | None = None, staff: bool = False):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username=username, password=password or username, is_staff=staff)
    return user


def make_factory(*, name: str | None = None, slug: str | None = None, members: dict | None = None) -> Factory:
    n = next(_n)
    factory = Factory.objects.create(name=name or f"Plant {n}", slug=slug or f"plant-{n}", floor_width_m=60, floor_depth_m=40)
    for user, role in (members or {}).items():
        Membership.objects.create(factory=factory, user=user, role=role)
    return factory


def make_asset_type(kind: str = "machine", *, name: str | None = None, defaults: dict | None = None) -> AssetType:
    name = name or f"{kind.title()} type {next(_n)}"
    return AssetType.objects.create(name=name, kind=kind, width_m=2, depth_m=2, height_m=2, color="#336699", defaults=defaults or {})


def make_layout(*, factory: Factory, assets: int = 0, status: str = Layout.Status.DRAFT, name: str | None = None, line: bool = False) -> Layout:
    """A layout with `assets` machines; with line=True a source → machines → sink line, connected."""
    layout = Layout.objects.create(factory=factory, name=name or f"Layout {next(_n)}", status=status)
    machine = make_asset_type("machine", defaults={"cycle_time_s": 10.0, "cycle_cv": 0.0})
    placed = []
    if line:
        placed.append(Asset.objects.create(layout=layout, asset_type=make_asset_type("source", defaults={"interarrival_s": 20.0}), name="Source", x=0, z=0))
    for i in range(assets):
        placed.append(Asset.objects.create(layout=layout, asset_type=machine, name=f"M{i + 1}", x=4.0 * (i + 1), z=0))
    if line:
        placed.append(Asset.objects.create(layout=layout, asset_type=make_asset_type("sink"), name="Sink", x=4.0 * (assets + 1), z=0))
        for a, b in zip(placed, placed[1:]):
            Connection.objects.create(layout=layout, source=a, target=b, buffer_capacity=5)
    return layout


__all__ = ["make_user", "make_factory", "make_asset_type", "make_layout", "Role"]
