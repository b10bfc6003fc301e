"""Checks that a layout can be simulated, naming the asset or connection at fault.

Deadlock rule: with blocking after service, a circular wait can only form along connections that can be
full, so the connections with a finite `buffer_capacity` must not contain a directed cycle. A cycle is
fine as long as at least one of its connections is unbounded (`buffer_capacity` null).
"""
from __future__ import annotations

import math
from collections import deque

from .model import FLOW_KINDS, IGNORED_KINDS, MACHINE_KINDS, Model, ModelError, is_accumulating, uses_line_model


def _bad_number(value, *, positive=False, allow_none=True) -> bool:
    if value is None:
        return not allow_none
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    if math.isnan(value) or math.isinf(value) or value < 0:
        return True
    return positive and value <= 0


def _check_station(st) -> None:
    def fail(msg):
        raise ModelError(f"{st.name or st.id}: {msg}", asset=st.id)

    if st.kind not in FLOW_KINDS:
        fail(f"unknown kind '{st.kind}'")
    for field in ("x", "z"):
        v = getattr(st, field)
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            fail(f"{field} must be a finite number")
    for field in ("cycle_cv", "interarrival_cv"):
        if _bad_number(getattr(st, field), allow_none=False):
            fail(f"{field} must be a number >= 0")
    if isinstance(st.capacity, bool) or not isinstance(st.capacity, int) or st.capacity < 1:
        fail("capacity must be an integer >= 1")
    if (st.kind in MACHINE_KINDS or st.kind == "assembly") and not is_accumulating(st):
        if _bad_number(st.cycle_time_s, positive=True, allow_none=False):
            fail("a machine needs a positive cycle_time_s")
        if _bad_number(st.mtbf_s, positive=True) or _bad_number(st.mttr_s):
            fail("mtbf_s must be > 0 and mttr_s >= 0")
        if st.mtbf_s is not None and st.mttr_s is None:
            fail("mtbf_s is set but mttr_s is missing")
    if st.kind == "source" and _bad_number(st.interarrival_s, positive=True):
        fail("interarrival_s must be > 0 (or null for an unlimited supply)")


def _check_link(ln, by_id) -> None:
    def fail(msg):
        raise ModelError(f"connection {ln.id}: {msg}", connection=ln.id)

    for end in (ln.source, ln.target):
        if end not in by_id:
            fail(f"refers to unknown asset {end}")
        if by_id[end].kind in IGNORED_KINDS:
            fail(f"asset {end} ({by_id[end].kind}) does not carry parts")
    if ln.source == ln.target:
        fail("connects an asset to itself")
    if by_id[ln.target].kind == "source":
        fail("leads into a source (sources only send parts)")
    if by_id[ln.source].kind == "sink":
        fail("leaves a sink (sinks only take parts)")
    cap = ln.buffer_capacity
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        fail("buffer_capacity must be an integer >= 0 or null")
    if _bad_number(ln.transport_speed_mps, positive=True):
        fail("transport_speed_mps must be > 0 or null")
    if _bad_number(ln.weight, positive=True, allow_none=False):
        fail("weight must be > 0")
    if ln.transport_speed_mps is not None and cap == 0:
        fail("parts in transit count against the buffer, so a transport needs buffer_capacity >= 1")


def _reach(starts, adj) -> set:
    seen = set(starts)
    todo = deque(starts)
    while todo:
        for nxt in adj[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _finite_cycle(links, ids):
    """A link on a directed cycle made only of finite-capacity links, or None (iterative DFS)."""
    adj = {i: [] for i in ids}
    for ln in links:
        if ln.buffer_capacity is not None:
            adj[ln.source].append(ln)
    colour = dict.fromkeys(ids, 0)
    for root in ids:
        if colour[root]:
            continue
        colour[root] = 1
        stack = [(root, iter(adj[root]))]
        while stack:
            node, it = stack[-1]
            ln = next(it, None)
            if ln is None:
                colour[node] = 2
                stack.pop()
            elif colour[ln.target] == 1:
                return ln
            elif colour[ln.target] == 0:
                colour[ln.target] = 1
                stack.append((ln.target, iter(adj[ln.target])))
    return None


def flow_stations(model: Model):
    """The stations that take part in the flow (operators and decor are scenery)."""
    return [s for s in model.stations if s.kind not in IGNORED_KINDS]


def validate(model: Model) -> None:
    """Raise ModelError naming the culprit if `model` cannot be simulated."""
    by_id = {}
    for st in model.stations:
        if st.id in by_id:
            raise ModelError(f"duplicate asset id {st.id}", asset=st.id)
        by_id[st.id] = st
    stations = flow_stations(model)
    for st in stations:
        _check_station(st)
    seen_pairs = {}
    link_ids = set()
    for ln in model.links:
        if ln.id in link_ids:
            raise ModelError(f"duplicate connection id {ln.id}", connection=ln.id)
        link_ids.add(ln.id)
        _check_link(ln, by_id)
        if (ln.source, ln.target) in seen_pairs:
            raise ModelError(f"connection {ln.id} duplicates connection {seen_pairs[(ln.source, ln.target)]}",
                             connection=ln.id)
        seen_pairs[(ln.source, ln.target)] = ln.id
    sources = [s.id for s in stations if s.kind == "source"]
    sinks = [s.id for s in stations if s.kind == "sink"]
    if not sources:
        raise ModelError("the layout has no source: nothing creates parts")
    if not sinks:
        raise ModelError("the layout has no sink: parts can never leave")
    ids = [s.id for s in stations]
    fwd = {i: [] for i in ids}
    back = {i: [] for i in ids}
    for ln in model.links:
        fwd[ln.source].append(ln.target)
        back[ln.target].append(ln.source)
    from_source = _reach(sources, fwd)
    to_sink = _reach(sinks, back)
    for st in stations:
        if st.id not in from_source:
            raise ModelError(f"{st.name or st.id}: not reachable from any source", asset=st.id)
        if st.id not in to_sink:
            raise ModelError(f"{st.name or st.id}: parts here can never reach a sink", asset=st.id)
    bad = _finite_cycle(model.links, ids)
    if bad is not None:
        raise ModelError(
            f"connection {bad.id} closes a cycle of finite buffers that can deadlock under blocking; "
            "make one connection of the cycle unbounded", connection=bad.id)
    if uses_line_model(model):
        _check_line_model(model, by_id, stations)


def check_calendar(cal) -> None:
    def fail(msg):
        raise ModelError(f"calendar: {msg}")

    if not isinstance(cal, dict) or set(cal) - {"period_s", "on"}:
        fail('must be an object {"period_s": seconds, "on": [[start_s, end_s], ...]}')
    period = cal.get("period_s")
    if _bad_number(period, positive=True, allow_none=False):
        fail("period_s must be a number > 0")
    on = cal.get("on")
    if not isinstance(on, (list, tuple)) or not on or len(on) > 1000:
        fail("on must be a list of 1 to 1,000 [start_s, end_s] intervals")
    last = 0.0
    for iv in on:
        if not isinstance(iv, (list, tuple)) or len(iv) != 2 or any(_bad_number(v, allow_none=False) for v in iv):
            fail("every interval must be [start_s, end_s] with numbers >= 0")
        a, b = iv
        if not (last <= a < b <= period):
            fail(f"intervals must be sorted, not overlap and lie within [0, period_s]: [{a}, {b}]")
        last = b


def _check_initial(initial, ids) -> None:
    if not isinstance(initial, dict):
        raise ModelError("initial: must be an object {asset id: {queue, down}}")
    for key, st in initial.items():
        try:
            asset = int(key)
        except (TypeError, ValueError):
            raise ModelError(f"initial: {key!r} is not an asset id") from None
        if asset not in ids or not isinstance(st, dict) or set(st) - {"queue", "down"}:
            raise ModelError(f"initial: {key!r} must be a simulated asset with queue and down", asset=asset if asset in ids else None)
        q = st.get("queue", 0)
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= 100_000:
            raise ModelError("initial: queue must be an integer from 0 to 100,000", asset=asset)
        if not isinstance(st.get("down", False), bool):
            raise ModelError("initial: down must be true or false", asset=asset)


def _type_name(name) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 64


def _check_line_model(model: Model, by_id: dict, stations: list) -> None:
    """§7: parameters, operator pools, and the static check that no part type can get stuck."""
    if model.calendar is not None:
        check_calendar(model.calendar)
    if model.initial is not None:
        _check_initial(model.initial, {s.id for s in stations})
    for st in stations:
        def fail(msg, st=st):
            raise ModelError(f"{st.name or st.id}: {msg}", asset=st.id)

        if st.mix is not None:
            if st.kind != "source" or not isinstance(st.mix, dict) or not st.mix:
                fail("mix must be a non-empty {type: weight} object on a source")
            for k, w in st.mix.items():
                if not _type_name(k) or _bad_number(w, positive=True, allow_none=False):
                    fail("mix needs type names (1-64 characters) with weights > 0")
        if st.cycle_time_by_type is not None:
            if not isinstance(st.cycle_time_by_type, dict):
                fail("cycle_time_by_type must be a {type: seconds} object")
            for k, v in st.cycle_time_by_type.items():
                if not _type_name(k) or _bad_number(v, positive=True, allow_none=False):
                    fail("cycle_time_by_type needs type names with seconds > 0")
        for field in ("setup_time_s", "setup_cv"):
            if _bad_number(getattr(st, field), allow_none=False):
                fail(f"{field} must be a number >= 0")
        if _bad_number(st.scrap_rate, allow_none=False) or st.scrap_rate >= 1:
            fail("scrap_rate must be in [0, 1)")
        for field in ("operator", "repair_operator"):
            ref = getattr(st, field)
            if ref is None:
                continue
            pool = by_id.get(ref)
            if pool is None or pool.kind != "operator":
                fail(f"{field} must be the id of an operator asset in this layout")
            if isinstance(pool.capacity, bool) or not isinstance(pool.capacity, int) or pool.capacity < 1:
                raise ModelError(f"{pool.name or pool.id}: capacity (workers) must be an integer >= 1", asset=pool.id)
        if is_accumulating(st):
            for field in ("length_m", "speed_mps", "spacing_m"):
                if _bad_number(getattr(st, field), positive=True, allow_none=False):
                    fail(f"{field} must be > 0")
            if st.spacing_m > st.length_m:
                fail("spacing_m must not exceed length_m (at least one part fits)")
            if st.operator is not None:
                fail("an accumulating conveyor runs by itself: remove its operator")
        if st.output_type is not None and (st.kind != "assembly" or not _type_name(st.output_type)):
            fail("output_type (1-64 characters) is for assemblies")
    for ln in model.links:
        q = ln.quantity
        if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= 1000:
            raise ModelError(f"connection {ln.id}: quantity must be an integer from 1 to 1000", connection=ln.id)
        if ln.part_types is not None and (not isinstance(ln.part_types, (list, tuple))
                                          or not all(_type_name(t) for t in ln.part_types)):
            raise ModelError(f"connection {ln.id}: part_types must be a list of type names or null",
                             connection=ln.id)
    for st in stations:
        if st.kind == "assembly" and not any(ln.target == st.id for ln in model.links):
            raise ModelError(f"{st.name or st.id}: an assembly needs incoming connections", asset=st.id)
    types_flow(model, stations)


def output_type(st) -> str:
    return st.output_type or st.name or f"assembly-{st.id}"


def source_types(st) -> list:
    return sorted(st.mix) if st.mix else ["part"]


def types_flow(model: Model, stations: list) -> dict:
    """Propagate the part types each station can see ({station id: set of types}); a non-sink station that
    can see a type that none of its outgoing connections accepts would hold that part for ever: refuse it,
    naming the station."""
    out = {s.id: [] for s in stations}
    for ln in model.links:
        out[ln.source].append(ln)
    kinds = {s.id: s for s in stations}
    seen = {s.id: set() for s in stations}
    todo = deque()
    for st in stations:
        if st.kind == "source":
            seen[st.id].update(source_types(st))
            todo.append(st.id)
    while todo:
        sid = todo.popleft()
        st = kinds[sid]
        types = {output_type(st)} if st.kind == "assembly" else seen[sid]
        if st.kind == "sink":
            continue
        for t in sorted(types):
            accepting = [ln for ln in out[sid] if ln.part_types is None or t in ln.part_types]
            if not accepting:
                raise ModelError(f"{st.name or sid}: parts of type '{t}' can reach it but no outgoing "
                                 "connection accepts them", asset=sid)
            for ln in accepting:
                if t not in seen[ln.target]:
                    seen[ln.target].add(t)
                    todo.append(ln.target)
    return seen
