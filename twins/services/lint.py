"""Layout checks (CONTRACT.md §11): footprints that overlap or come closer than their clearance, flow assets
with no connection, and what the simulation refuses — the issues a planner wants to see as they arise.

A footprint is the asset type's `width_m` × `depth_m`, rotated by `rotation_deg` about the asset's centre
the way the 3D scene turns it (three.js, about +y: local (x, z) → (x cos θ + z sin θ, −x sin θ + z cos θ)).
Geometry is shapely's, with its STR-tree, so that a plant of 20,000 assets is checked in well under a second
rather than in n² pair tests. Decor (fences, walkways) and operators (people) are not machines: they are
left out of the overlap and clearance checks.
"""
from __future__ import annotations

import math

from shapely import STRtree
from shapely.geometry import Polygon

from ..errors import Invalid
from ..models import Asset, Connection, Layout
from ..simulation.model import FLOW_KINDS
from ..simulation_model import validated_model

NOT_SOLID = ("decor", "operator")
MAX_ISSUES = 1000  # per kind: a broken import of 20,000 stacked assets should not answer with 200 million pairs


def footprint(x: float, z: float, width: float, depth: float, rotation_deg: float) -> Polygon:
    t = math.radians(rotation_deg or 0.0)
    c, s = math.cos(t), math.sin(t)
    corners = []
    for lx, lz in ((-width / 2, -depth / 2), (width / 2, -depth / 2), (width / 2, depth / 2), (-width / 2, depth / 2)):
        corners.append((x + lx * c + lz * s, z - lx * s + lz * c))
    return Polygon(corners)


def _clearance(asset) -> float:
    own = (asset.params or {}).get("clearance_m")
    if isinstance(own, (int, float)) and not isinstance(own, bool) and math.isfinite(own) and own >= 0:
        return float(own)
    return float(asset.asset_type.clearance_m or 0.0)


def layout_lint(layout: Layout) -> dict:
    assets = list(Asset.objects.filter(layout=layout).select_related("asset_type").order_by("id"))
    issues = []
    solid = [a for a in assets if a.asset_type.kind not in NOT_SOLID]
    shapes = [footprint(a.x, a.z, a.asset_type.width_m, a.asset_type.depth_m, a.rotation_deg) for a in solid]
    clear = [_clearance(a) for a in solid]
    tree = STRtree(shapes)
    reach = max(clear, default=0.0)
    overlaps, close = [], []
    for i, shape in enumerate(shapes):
        for j in tree.query(shape.buffer(reach) if reach else shape):
            j = int(j)
            if j <= i:
                continue
            a, b = solid[i], solid[j]
            area = shape.intersection(shapes[j]).area
            if area > 1e-6:
                if len(overlaps) < MAX_ISSUES:
                    overlaps.append({"kind": "overlap", "assets": [a.id, b.id],
                                     "message": f"{a.name} and {b.name} overlap ({area:.2f} m² in common). Move one of them apart."})
                continue
            need = max(clear[i], clear[j])
            if need > 0:
                gap = shape.distance(shapes[j])
                if gap < need - 1e-9 and len(close) < MAX_ISSUES:
                    close.append({"kind": "clearance", "assets": [a.id, b.id],
                                  "message": f"{a.name} and {b.name} are {gap:.2f} m apart; they need {need:.2f} m of clearance."})
    issues += overlaps + close
    linked = set(Connection.objects.filter(layout=layout).values_list("source_id", flat=True)) | \
        set(Connection.objects.filter(layout=layout).values_list("target_id", flat=True))
    for a in assets:
        if a.asset_type.kind in FLOW_KINDS and a.id not in linked:
            issues.append({"kind": "unconnected", "assets": [a.id],
                           "message": f"{a.name} is a {a.asset_type.kind} with no connection: parts never reach it."})
    try:
        validated_model(layout)
    except Invalid as exc:
        culprit = (exc.errors or {}).get("asset") if isinstance(exc.errors, dict) else None
        issues.append({"kind": "unsimulatable", "assets": [culprit["id"]] if isinstance(culprit, dict) else [],
                       "message": exc.message if hasattr(exc, "message") else str(exc)})
    return {"issues": issues}
