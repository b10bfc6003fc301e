"""Turns a layout (at its current revision) into the engine's `Model`, and back and forth to JSON.

A run stores the JSON snapshot, so that every replication batch, on any worker, simulates exactly the
layout revision the run was created for, whatever edits follow.
"""
from __future__ import annotations

from dataclasses import asdict, fields

from .errors import Invalid
from .models import Asset, Connection, Layout
from .simulation.model import FLOW_KINDS, Link, Model, ModelError, Station
from .simulation.validate import validate

# Station fields that asset params may set, and how to read a JSON value for each.
_PARAM_FIELDS = {
    "cycle_time_s": "number", "cycle_cv": "number", "mtbf_s": "number", "mttr_s": "number",
    "capacity": "integer", "interarrival_s": "number", "interarrival_cv": "number",
    # CONTRACT.md §7
    "mix": "object", "cycle_time_by_type": "object", "setup_time_s": "number", "setup_cv": "number",
    "scrap_rate": "number", "operator": "integer", "repair_operator": "integer", "length_m": "number",
    "speed_mps": "number", "spacing_m": "number", "output_type": "string",
}
_NULLABLE = {"cycle_time_s", "mtbf_s", "mttr_s", "interarrival_s", "mix", "cycle_time_by_type", "operator",
             "repair_operator", "length_m", "speed_mps", "spacing_m", "output_type"}
_MODEL_KINDS = (*FLOW_KINDS, "operator")  # operators are the §7 worker pools
_STATION_FIELDS = {f.name for f in fields(Station)}
_LINK_FIELDS = {f.name for f in fields(Link)}


def _station_params(defaults: dict, params: dict) -> dict:
    """Asset type defaults overlaid by the asset's own params; only the keys the engine knows."""
    merged = {**(defaults or {}), **(params or {})}
    out = {}
    for key, kind in _PARAM_FIELDS.items():
        if key not in merged:
            continue
        value = merged[key]
        if value is None:
            if key in _NULLABLE:
                out[key] = None
            continue  # null for a non-nullable field = "use the default"
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            value = int(value)
        out[key] = value  # validate() reports anything that is not a usable number, naming the asset
    return out


def build_model(layout: Layout, calendar: dict | None = None, initial: dict | None = None) -> Model:
    """The layout's flow network plus the operator pools its stations name; decor is scenery, and
    connections only carry parts between flow assets. `calendar` is the run's shift calendar (CONTRACT.md §7), if any."""
    assets = list(Asset.objects.filter(layout=layout).select_related("asset_type").order_by("id"))
    stations = []
    for a in assets:
        kind = a.asset_type.kind
        if kind not in _MODEL_KINDS:
            continue
        stations.append(Station(id=a.id, name=a.name, kind=kind, x=float(a.x), z=float(a.z),
                                stream_key=a.uid.int & (2**64 - 1), **_station_params(a.asset_type.defaults, a.params)))
    # An operator is a worker pool only when some station names it; otherwise it is scenery, as before.
    named = {s.operator for s in stations} | {s.repair_operator for s in stations}
    stations = [s for s in stations if s.kind != "operator" or s.id in named]
    flow_ids = {s.id for s in stations if s.kind in FLOW_KINDS}
    links = tuple(
        Link(id=c.id, source=c.source_id, target=c.target_id, buffer_capacity=c.buffer_capacity,
             transport_speed_mps=c.transport_speed_mps, weight=float(c.weight),
             part_types=list(c.part_types) if c.part_types is not None else None, quantity=int(c.quantity))
        for c in Connection.objects.filter(layout=layout).order_by("id")
        if c.source_id in flow_ids and c.target_id in flow_ids
    )
    return Model(stations=tuple(stations), links=links, calendar=calendar, initial=initial)


def model_to_dict(model: Model) -> dict:
    data = {"stations": [asdict(s) for s in model.stations], "links": [asdict(ln) for ln in model.links]}
    if model.calendar is not None:
        data["calendar"] = model.calendar
    if model.initial is not None:
        data["initial"] = model.initial
    return data


def model_from_dict(data: dict) -> Model:
    return Model(
        stations=tuple(Station(**{k: v for k, v in s.items() if k in _STATION_FIELDS}) for s in data["stations"]),
        links=tuple(Link(**{k: v for k, v in ln.items() if k in _LINK_FIELDS}) for ln in data["links"]),
        calendar=data.get("calendar"),
        initial=data.get("initial"),
    )


def model_error_to_invalid(error: ModelError, model: Model) -> Invalid:
    """A 400 that names the culprit by name and id: `{"detail", "asset": {id, name}, "connection": {...}}`."""
    names = {s.id: s.name for s in model.stations}
    extra = {}
    detail = error.message
    if error.asset is not None:
        extra["asset"] = {"id": error.asset, "name": names.get(error.asset, "")}
        detail = f"Asset '{names.get(error.asset, error.asset)}' (id {error.asset}): {_strip_prefix(detail, names.get(error.asset), error.asset)}"
    if error.connection is not None:
        link = next((ln for ln in model.links if ln.id == error.connection), None)
        label = f"{names.get(link.source, link.source)} → {names.get(link.target, link.target)}" if link else ""
        extra["connection"] = {"id": error.connection, "name": label}
        detail = f"Connection {label} (id {error.connection}): {_strip_prefix(detail, f'connection {error.connection}', None)}"
    return Invalid(f"This layout cannot be simulated. {detail}", errors=extra or None)


def _strip_prefix(message: str, name, ident) -> str:
    for part in (name, ident):
        if part is not None and message.startswith(f"{part}: "):
            return message[len(f"{part}: "):]
    return message


def validated_model(layout: Layout, calendar: dict | None = None, initial: dict | None = None) -> Model:
    """`build_model` + the engine's validation, as a service error naming the asset or connection."""
    model = build_model(layout, calendar, initial)
    try:
        validate(model)
    except ModelError as exc:
        raise model_error_to_invalid(exc, model) from None
    return model
