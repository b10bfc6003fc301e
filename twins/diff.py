"""What changed between two layouts, matched by asset `uid` (CONTRACT.md §3 `diff`)."""
from .models import Asset, Connection, Layout
from .services.params import OPERATOR_REFS

PLACE = ("x", "z", "rotation_deg")
CONNECTION_FIELDS = ("buffer_capacity", "transport_speed_mps", "weight", "part_types", "quantity")
EPS = 1e-6


def _place(a: Asset) -> dict:
    return {"x": a.x, "z": a.z, "rotation_deg": a.rotation_deg}


def layout_diff(*, layout: Layout, against: Layout) -> dict:
    """Changes that turn `against` (e.g. the baseline) into `layout` (e.g. the scenario)."""
    mine = {a.uid: a for a in Asset.objects.filter(layout=layout).select_related("asset_type")}
    theirs = {a.uid: a for a in Asset.objects.filter(layout=against).select_related("asset_type")}
    added = [{"uid": str(u), "id": a.id, "name": a.name, "asset_type": a.asset_type_id, **_place(a)} for u, a in mine.items() if u not in theirs]
    removed = [{"uid": str(u), "id": a.id, "name": a.name, "asset_type": a.asset_type_id, **_place(a)} for u, a in theirs.items() if u not in mine]
    mine_by_id, theirs_by_id = {a.id: a for a in mine.values()}, {a.id: a for a in theirs.values()}
    moved, changed = [], []
    for uid, a in mine.items():
        b = theirs.get(uid)
        if b is None:
            continue
        if any(abs(getattr(a, f) - getattr(b, f)) > EPS for f in PLACE):
            moved.append({"uid": str(uid), "id": a.id, "name": a.name, "from": _place(b), "to": _place(a)})
        fields = {}
        for field in ("name", "asset_type_id", "twin_key"):
            if getattr(a, field) != getattr(b, field):
                fields[field.removesuffix("_id")] = {"from": getattr(b, field), "to": getattr(a, field)}
        # Compare effective parameters: an explicit value equal to the type's default is no change.
        mine_params, their_params = {**a.asset_type.defaults, **a.params}, {**b.asset_type.defaults, **b.params}
        for key in sorted(set(mine_params) | set(their_params)):
            to, frm = _param(key, mine_params.get(key), mine_by_id), _param(key, their_params.get(key), theirs_by_id)
            if to[0] != frm[0]:
                fields[f"params.{key}"] = {"from": frm[1], "to": to[1]}
        if fields:
            changed.append({"uid": str(uid), "id": a.id, "name": a.name, "fields": fields})
    return {"added": added, "removed": removed, "moved": moved, "changed": changed, "connections": _connection_diff(layout, against)}


def _param(key: str, value, assets_by_id: dict) -> tuple:
    """(what to compare, what to show). Operator references are asset ids, which differ between a layout and
    its branch: they compare by the operator's uid and show its name."""
    operator = assets_by_id.get(value) if key in OPERATOR_REFS else None
    return (str(operator.uid), operator.name) if operator is not None else (value, value)


def _connection_diff(layout: Layout, against: Layout) -> dict:
    def index(lay):
        rows = Connection.objects.filter(layout=lay).select_related("source", "target")
        return {(str(c.source.uid), str(c.target.uid)): c for c in rows}

    mine, theirs = index(layout), index(against)
    out = {"added": [], "removed": [], "changed": []}
    for key, c in mine.items():
        ref = {"source_uid": key[0], "target_uid": key[1], "source": c.source.name, "target": c.target.name}
        if key not in theirs:
            out["added"].append(ref)
            continue
        o = theirs[key]
        fields = {f: {"from": getattr(o, f), "to": getattr(c, f)} for f in CONNECTION_FIELDS if getattr(o, f) != getattr(c, f)}
        if fields:
            out["changed"].append({**ref, "fields": fields})
    for key, c in theirs.items():
        if key not in mine:
            out["removed"].append({"source_uid": key[0], "target_uid": key[1], "source": c.source.name, "target": c.target.name})
    return out
