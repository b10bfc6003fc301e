"""The demo plant: catalogue, users, a two-line baseline layout that simulates as a factory runs (CONTRACT.md §7),
and one scenario under review whose simulation shows what a manager's decision buys.

Line A machines three part types on two CNCs that set up on every change of type and share one CNC operator;
line B assembles gearboxes from a housing and two gear sets; inspection scraps a few parts; the plant works two
shifts. With one operator for two CNCs, line A waits for him (the seeded scenario adds a second one)."""
from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Asset, AssetType, Factory, Layout, Membership, Role, Twin
from .services.assets import asset_create, asset_update
from .services.connections import connection_create
from .services.factories import membership_set
from .services.layouts import (
    layout_branch,
    layout_create,
    layout_set_baseline,
    layout_submit,
)
from .services.simulations import simulation_create

FACTORY_SLUG = "demo-plant"

# name: (kind, width, depth, height, colour, default params)
CATALOGUE = {
    "Raw Material Dock": ("source", 4.0, 3.0, 1.2, "#4caf50", {"interarrival_s": 40.0, "interarrival_cv": 0.5}),
    "Kanban Supply": ("source", 2.0, 2.0, 1.0, "#66bb6a", {"interarrival_s": None, "interarrival_cv": 0.0}),
    "CNC Machining Center": ("machine", 3.0, 2.5, 2.4, "#1e88e5", {"cycle_time_s": 32.0, "cycle_cv": 0.3, "mtbf_s": 3600.0, "mttr_s": 240.0, "capacity": 1}),
    "Hydraulic Press": ("machine", 2.5, 2.0, 3.2, "#8e24aa", {"cycle_time_s": 20.0, "cycle_cv": 0.15, "mtbf_s": 5400.0, "mttr_s": 300.0, "capacity": 1}),
    "Robot Cell": ("robot", 3.5, 3.5, 2.2, "#fb8c00", {"cycle_time_s": 24.0, "cycle_cv": 0.1, "capacity": 1}),
    "Inspection Station": ("machine", 2.0, 1.5, 1.6, "#00acc1", {"cycle_time_s": 18.0, "cycle_cv": 0.5, "capacity": 1}),
    "Assembly Station": ("machine", 3.0, 2.0, 1.4, "#3949ab", {"cycle_time_s": 35.0, "cycle_cv": 0.4, "capacity": 2}),
    # Migration 0005 gives every installation this one; listed here so that the demo can name it either way.
    "Assembly Cell": ("assembly", 3.5, 2.5, 1.6, "#5c6bc0", {"cycle_time_s": 45.0, "cycle_cv": 0.2, "capacity": 1}),
    "Buffer Rack": ("buffer", 2.0, 1.0, 1.8, "#fdd835", {"capacity": 10}),
    "Belt Conveyor": ("conveyor", 4.0, 0.8, 0.9, "#78909c", {"cycle_time_s": 6.0, "cycle_cv": 0.0, "capacity": 1}),
    "Shipping Dock": ("sink", 4.0, 3.0, 1.2, "#e53935", {}),
    "Operator": ("operator", 0.6, 0.6, 1.8, "#ffb74d", {}),
    "Pallet Rack": ("decor", 3.0, 1.2, 3.0, "#a1887f", {}),
    "Safety Fence": ("decor", 4.0, 0.1, 1.5, "#ffeb3b", {}),
}

USERS = [  # username, role in the demo plant, staff
    ("olivia", Role.OWNER, False),
    ("maggie", Role.MANAGER, False),
    ("alice", Role.ENGINEER, False),
    ("bob", Role.ENGINEER, False),
    ("victor", Role.VIEWER, False),
]
ADMIN = "admin"

# Line A (machining) along z = 10, line B (assembly) along z = 28; names double as twin keys. Each row is
# (catalogue type, name, x, z, params); an `operator` or `repair_operator` param names a pool of POOLS, resolved
# to its id.
PART_MIX = {"bracket": 0.5, "flange": 0.3, "shaft": 0.2}
CNC_PARAMS = {"cycle_time_by_type": {"bracket": 55.0, "flange": 70.0, "shaft": 85.0},
              "setup_time_s": 60.0, "setup_cv": 0.3, "operator": "CNC Operators"}
LINE_A = [
    ("Raw Material Dock", "Bar Stock In", 4, 10, {"interarrival_s": 60.0, "interarrival_cv": 0.5, "mix": PART_MIX}),
    ("Belt Conveyor", "Infeed Conveyor A", 9.5, 10, {}),
    ("Buffer Rack", "Buffer A1", 14, 10, {}),
    ("CNC Machining Center", "CNC-1", 19, 7, CNC_PARAMS),
    ("CNC Machining Center", "CNC-2", 19, 13, CNC_PARAMS),
    ("Buffer Rack", "Buffer A2", 24, 10, {}),
    ("Hydraulic Press", "Press-1", 29, 10, {}),
    ("Robot Cell", "Deburr Robot", 35, 10, {}),
    ("Buffer Rack", "Buffer A3", 40, 10, {}),
    ("Inspection Station", "Inspection A", 45, 10, {"scrap_rate": 0.03}),
    ("Shipping Dock", "Dock A", 55, 10, {}),
]
LINE_A_LINKS = [(0, 1), (1, 2), (2, 3), (2, 4), (3, 5), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9), (9, 10)]

# A gearbox is one housing (from the press and the weld robot) and two gear sets (from the gear robot).
LINE_B = [
    ("Kanban Supply", "Housings In", 4, 28, {"mix": {"housing": 1.0}}),
    ("Hydraulic Press", "Press-2", 9, 28, {"repair_operator": "Maintenance Ben"}),
    ("Buffer Rack", "Buffer B1", 13.5, 28, {}),
    ("Robot Cell", "Weld Robot", 18.5, 28, {}),
    ("Buffer Rack", "Buffer B2", 23.5, 28, {}),
    ("Assembly Cell", "Assembly-1", 28.5, 28, {"cycle_time_s": 45.0, "mtbf_s": 3600.0, "mttr_s": 180.0,
                                               "output_type": "gearbox", "repair_operator": "Maintenance Ben"}),
    ("Inspection Station", "Final Test", 33.5, 28, {"scrap_rate": 0.02}),
    ("Buffer Rack", "Buffer B3", 37.5, 28, {}),
    ("Robot Cell", "Pack Robot", 42.5, 28, {}),
    ("Belt Conveyor", "Outfeed Conveyor B", 48.5, 28, {}),
    ("Shipping Dock", "Dock B", 55, 28, {}),
    ("Kanban Supply", "Gear Sets In", 16, 33.5, {"mix": {"gear set": 1.0}}),
    ("Robot Cell", "Gear Robot", 21.5, 33.5, {"cycle_time_s": 20.0}),
    ("Buffer Rack", "Buffer B4", 28.5, 33.5, {}),
]
# (from, to) or (from, to, connection fields): the assembly takes two gear sets per gearbox.
LINE_B_LINKS = [(i, i + 1) for i in range(10)] + [(11, 12), (12, 13), (13, 5, {"quantity": 2, "buffer_capacity": 4})]

# Worker pools (CONTRACT.md §7 `operator` assets): placed before the stations that name them.
POOLS = [
    ("Operator", "CNC Operators", 19, 10, {"capacity": 1}),
    ("Operator", "Maintenance Ben", 28.5, 31, {"capacity": 1}),  # repairs line B's press and assembly cell
]

DECOR = [
    ("Operator", "Packer Dee", 42.5, 31.5),
    ("Operator", "Inspector Cy", 45, 12.5),
    ("Pallet Rack", "Rack North 1", 10, 37),
    ("Pallet Rack", "Rack North 2", 14, 37),
    ("Pallet Rack", "Rack North 3", 18, 37),
    ("Safety Fence", "Fence Robot A", 35, 7.5),
    ("Safety Fence", "Fence Robot B", 18.5, 25.5),
    ("Safety Fence", "Fence Robot C", 42.5, 25.5),
    ("Pallet Rack", "Rack South", 50, 3),
]

TWIN_KINDS = {"machine", "robot", "conveyor", "assembly"}

# Carts and roller tracks move parts between stations at 0.5 m/s, so a station's position is part of the model:
# moving it changes lead time and WIP in the next run. A source stands for parts arriving at its first station,
# so its own connection carries no transport time.
TRANSPORT_SPEED_MPS = 0.5

# Two shifts a day, 06:00–14:00 and 14:00–22:00; nothing runs at night (CONTRACT.md §7 `calendar`).
TWO_SHIFTS = {"period_s": 86400.0, "on": [[21600.0, 50400.0], [50400.0, 79200.0]]}

# The scenario alice has submitted: a second CNC operator on each shift. With one, CNC-1 and CNC-2 take turns
# with him for every setup and cycle, so line A makes about 35 parts an hour of the 60 it is sent.
SCENARIO = {
    "name": "Second CNC operator",
    "description": "A second operator for CNC-1 and CNC-2 on each shift, so that neither waits for the other's setups.",
    "author": "alice",
    "params": {"CNC Operators": {"capacity": 2}},
}
# Both layouts are run with the same parameters, seed and replications, so the review pairs them replication by
# replication (and, the line engine keying its random numbers by asset uid, with common random numbers). The plant
# starts empty at midnight and is warm by noon; the 24 hours after that are measured (both shifts and the night).
# Five replications keep the two seeded runs short for a fresh worker; pairing keeps the difference clear.
SCENARIO_RUN = {"horizon_s": 36 * 3600.0, "warmup_s": 12 * 3600.0, "replications": 5, "seed": 2026, "calendar": TWO_SHIFTS}


def slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def seed_catalogue() -> dict[str, AssetType]:
    types = {}
    for name, (kind, w, d, h, color, defaults) in CATALOGUE.items():
        asset_type, _ = AssetType.objects.get_or_create(
            name=name, defaults={"kind": kind, "width_m": w, "depth_m": d, "height_m": h, "color": color, "defaults": defaults}
        )
        types[name] = asset_type
    return types


def seed_users(factory: Factory) -> dict:
    User = get_user_model()
    admin = User.objects.filter(username=ADMIN).first()
    if admin is None:
        admin = User.objects.create_superuser(ADMIN, email="admin@example.com", password=ADMIN)
    for username, role, _staff in USERS:
        if not Membership.objects.filter(factory=factory, user__username=username).exists():
            membership_set(factory=factory, username=username, role=role, by=None, password=username, create_user=True)
    return {"admin": admin}


def _place_pools(layout, types, by) -> dict[str, int]:
    return {name: asset_create(layout=layout, data={"asset_type": types[type_name].pk, "name": name, "x": float(x),
                                                    "z": float(z), "params": params}, by=by).pk
            for type_name, name, x, z, params in POOLS}


def _place_line(layout, types, rows, links, pools: dict[str, int], by) -> list[Asset]:
    assets = []
    for type_name, name, x, z, params in rows:
        kind = types[type_name].kind
        params = {k: pools[v] if k in ("operator", "repair_operator") else v for k, v in params.items()}
        data = {"asset_type": types[type_name].pk, "name": name, "x": float(x), "z": float(z), "rotation_deg": 0.0}
        if params:
            data["params"] = params
        if kind in TWIN_KINDS:
            data["twin_key"] = slug(name)
        assets.append(asset_create(layout=layout, data=data, by=by))
    for a, b, *extra in links:
        # Every connection is finite so that WIP stays bounded even behind the unlimited Kanban supplies.
        kinds = (types[rows[a][0]].kind, types[rows[b][0]].kind)
        fields = {"source": assets[a].pk, "target": assets[b].pk, "buffer_capacity": 2 if "buffer" in kinds else 4,
                  "transport_speed_mps": None if kinds[0] == "source" else TRANSPORT_SPEED_MPS, "weight": 1.0}
        connection_create(layout=layout, data={**fields, **(extra[0] if extra else {})}, by=by)
    return assets


def seed_scenario(baseline: Layout) -> Layout:
    """Branch the baseline, make the scenario's change, submit it for review, and queue a run of each layout
    (a worker computes them within seconds), all through the services like an engineer in the workspace."""
    author = get_user_model().objects.get(username=SCENARIO["author"])
    scenario = layout_branch(layout=baseline, name=SCENARIO["name"], description=SCENARIO["description"], by=author)
    for name, params in SCENARIO["params"].items():
        asset = scenario.assets.get(name=name)
        asset_update(asset=asset, changes={"params": {**asset.params, **params}}, version=asset.version, by=author)
    scenario = layout_submit(layout=scenario, by=author)
    for layout in (baseline, scenario):
        simulation_create(layout=layout, params=SCENARIO_RUN, by=author)
    return scenario


def seed_demo() -> dict:
    """Create the demo plant if missing; running it again changes nothing."""
    types = seed_catalogue()
    with transaction.atomic():
        factory, _ = Factory.objects.get_or_create(
            slug=FACTORY_SLUG,
            defaults={"name": "Demo Plant", "floor_width_m": 60.0, "floor_depth_m": 40.0,
                      "description": "A machining line (A) and a gearbox assembly line (B) feeding two shipping docks."},
        )
        admin = seed_users(factory)["admin"]
    created = False
    scenario = None
    if factory.baseline_layout_id is None and not Layout.objects.filter(factory=factory).exists():
        with transaction.atomic():
            layout = layout_create(factory=factory, name="Baseline 2026", description="Current shop-floor layout.", by=admin)
            pools = _place_pools(layout, types, admin)
            _place_line(layout, types, LINE_A, LINE_A_LINKS, pools, admin)
            _place_line(layout, types, LINE_B, LINE_B_LINKS, pools, admin)
            for type_name, name, x, z in DECOR:
                asset_create(layout=layout, data={"asset_type": types[type_name].pk, "name": name, "x": float(x), "z": float(z)}, by=admin)
            layout_set_baseline(layout=layout, by=admin)
            scenario = seed_scenario(layout)
        created = True
    for type_name, name, *_ in LINE_A + LINE_B:
        if types[type_name].kind in TWIN_KINDS:
            Twin.objects.get_or_create(factory=factory, key=slug(name), defaults={"name": name})
    factory.refresh_from_db()
    return {"factory": factory, "created": created, "scenario": scenario}


def demo_logins() -> list[tuple[str, str, str]]:
    return [(ADMIN, ADMIN, "staff (Django admin)")] + [(u, u, role.value) for u, role, _ in USERS]
