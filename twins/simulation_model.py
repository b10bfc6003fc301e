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
}
_NULLABLE = {"cycle_time_s", "mtbf_s", "mttr_s", "interarrival_s"}
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


def build_model(layout: Layout) -> Model:
    """The layout's flow network; operators and decor are scenery, so they and their connections are left out."""
    assets = list(Asset.objects.filter(layout=layout).select_related("asset_type").order_by("id"))
    stations = []
    for a in assets:
        kind = a.asset_type.kind
        if kind not in FLOW_KINDS:
            continue
        stations.append(Station(id=a.id, name=a.name, kind=kind, x=float(a.x), z=float(a.z),
                                **_station_params(a.asset_type.defaults, a.params)))
    flow_ids = {s.id for s in stations}
    links = tuple(
        Link(id=c.id, source=c.source_id, target=c.target_id, buffer_capacity=c.buffer_capacity,
             transport_speed_mps=c.transport_speed_mps, weight=float(c.weight))
        for c in Connection.objects.filter(layout=layout).order_by("id")
        if c.source_id in flow_ids and c.target_id in flow_ids
    )
    return Model(stations=tuple(stations), links=links)


def model_to_dict(model: Model) -> dict:
    return {"stations": [asdict(s) for s in model.stations], "links": [asdict(ln) for ln in model.links]}


def model_from_dict(data: dict) -> Model:
    return Model(
        stations=tuple(Station(**{k: v for k, v in s.items() if k in _STATION_FIELDS}) for s in data["stations"]),
        links=tuple(Link(**{k: v for k, v in ln.items() if k in _LINK_FIELDS}) for ln in data["links"]),
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


def validated_model(layout: Layout) -> Model:
    """`build_model` + the engine's validation, as a service error naming the asset or connection."""
    model = build_model(layout)
    try:
        validate(model)
    except ModelError as exc:
        raise model_error_to_invalid(exc, model) from None
    return model
