"""The demo plant: catalogue, users, a two-line baseline layout that simulates sensibly, and one scenario under
review whose simulation shows what its move costs."""
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

# Line A (machining) along z = 10, line B (assembly) along z = 28; names double as twin keys.
LINE_A = [
    ("Raw Material Dock", "Bar Stock In", 4, 10),
    ("Belt Conveyor", "Infeed Conveyor A", 9.5, 10),
    ("Buffer Rack", "Buffer A1", 14, 10),
    ("CNC Machining Center", "CNC-1", 19, 7),
    ("CNC Machining Center", "CNC-2", 19, 13),
    ("Buffer Rack", "Buffer A2", 24, 10),
    ("Hydraulic Press", "Press-1", 29, 10),
    ("Robot Cell", "Deburr Robot", 35, 10),
    ("Buffer Rack", "Buffer A3", 40, 10),
    ("Inspection Station", "Inspection A", 45, 10),
    ("Shipping Dock", "Dock A", 55, 10),
]
LINE_A_LINKS = [(0, 1), (1, 2), (2, 3), (2, 4), (3, 5), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9), (9, 10)]

LINE_B = [
    ("Kanban Supply", "Housings In", 4, 28),
    ("Hydraulic Press", "Press-2", 9, 28),
    ("Buffer Rack", "Buffer B1", 13.5, 28),
    ("Robot Cell", "Weld Robot", 18.5, 28),
    ("Buffer Rack", "Buffer B2", 23.5, 28),
    ("Assembly Station", "Assembly-1", 28.5, 28),
    ("Inspection Station", "Final Test", 33.5, 28),
    ("Buffer Rack", "Buffer B3", 37.5, 28),
    ("Robot Cell", "Pack Robot", 42.5, 28),
    ("Belt Conveyor", "Outfeed Conveyor B", 48.5, 28),
    ("Shipping Dock", "Dock B", 55, 28),
]
LINE_B_LINKS = [(i, i + 1) for i in range(len(LINE_B) - 1)]

DECOR = [
    ("Operator", "Operator Ana", 19, 10),
    ("Operator", "Operator Ben", 28.5, 31),
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

TWIN_KINDS = {"machine", "robot", "conveyor"}

# Carts and roller tracks move parts between stations at 0.5 m/s, so a station's position is part of the model:
# moving it changes lead time and WIP in the next run. A source stands for parts arriving at its first station,
# so its own connection carries no transport time.
TRANSPORT_SPEED_MPS = 0.5

# The scenario alice has submitted: the weld robot moved into the extraction bay in the north-east corner, with
# its fence. Its two cart slots each way now travel ~26 m, which starves the line's bottleneck (~15 % less output).
SCENARIO = {
    "name": "Weld robot in the fume bay",
    "description": "Weld Robot moved into the extraction bay (north-east corner) to take the fumes off the floor.",
    "author": "alice",
    "moves": {"Weld Robot": (44.0, 36.5), "Fence Robot B": (44.0, 34.0)},
}
# Both layouts are run with the same parameters and seed, so the review compares like with like.
SCENARIO_RUN = {"horizon_s": 8 * 3600.0, "warmup_s": 1800.0, "replications": 10, "seed": 2026}


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


def _place_line(layout, types, rows, links, by, *, bind_twins=True) -> list[Asset]:
    assets = []
    for type_name, name, x, z in rows:
        kind = types[type_name].kind
        data = {"asset_type": types[type_name].pk, "name": name, "x": float(x), "z": float(z), "rotation_deg": 0.0}
        if bind_twins and kind in TWIN_KINDS:
            data["twin_key"] = slug(name)
        assets.append(asset_create(layout=layout, data=data, by=by))
    for a, b in links:
        # Every connection is finite so that WIP stays bounded even behind the unlimited Kanban supply.
        kinds = (types[rows[a][0]].kind, types[rows[b][0]].kind)
        capacity = 2 if "buffer" in kinds else 4
        speed = None if kinds[0] == "source" else TRANSPORT_SPEED_MPS
        connection_create(layout=layout, data={"source": assets[a].pk, "target": assets[b].pk, "buffer_capacity": capacity,
                                               "transport_speed_mps": speed, "weight": 1.0}, by=by)
    return assets


def seed_scenario(baseline: Layout) -> Layout:
    """Branch the baseline, make the scenario's moves, submit it for review, and queue a run of each layout
    (a worker computes them within seconds), all through the services like an engineer in the workspace."""
    author = get_user_model().objects.get(username=SCENARIO["author"])
    scenario = layout_branch(layout=baseline, name=SCENARIO["name"], description=SCENARIO["description"], by=author)
    for name, (x, z) in SCENARIO["moves"].items():
        asset = scenario.assets.get(name=name)
        asset_update(asset=asset, changes={"x": x, "z": z}, version=asset.version, by=author)
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
                      "description": "A machining line (A) and an assembly line (B) feeding two shipping docks."},
        )
        admin = seed_users(factory)["admin"]
    created = False
    scenario = None
    if factory.baseline_layout_id is None and not Layout.objects.filter(factory=factory).exists():
        with transaction.atomic():
            layout = layout_create(factory=factory, name="Baseline 2026", description="Current shop-floor layout.", by=admin)
            _place_line(layout, types, LINE_A, LINE_A_LINKS, admin)
            _place_line(layout, types, LINE_B, LINE_B_LINKS, admin)
            for type_name, name, x, z in DECOR:
                asset_create(layout=layout, data={"asset_type": types[type_name].pk, "name": name, "x": float(x), "z": float(z)}, by=admin)
            layout_set_baseline(layout=layout, by=admin)
            scenario = seed_scenario(layout)
        created = True
    for type_name, name, _x, _z in LINE_A + LINE_B:
        if types[type_name].kind in TWIN_KINDS:
            Twin.objects.get_or_create(factory=factory, key=slug(name), defaults={"name": name})
    factory.refresh_from_db()
    return {"factory": factory, "created": created, "scenario": scenario}


def demo_logins() -> list[tuple[str, str, str]]:
    return [(ADMIN, ADMIN, "staff (Django admin)")] + [(u, u, role.value) for u, role, _ in USERS]
