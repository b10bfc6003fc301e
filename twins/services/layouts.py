"""Layouts: create, rename, branch, and the review workflow draft → in_review → approved / rejected."""
from django.db import transaction

from ..errors import Forbidden, Invalid
from ..models import Asset, Connection, Factory, Layout, Role
from ..representations import layout_repr
from .common import lock_layout, record_change, require_editable, require_role
from .params import OPERATOR_REFS

PAST = {"submit": "submitted", "approve": "approved", "reject": "rejected", "archive": "archived"}


def _clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise Invalid("name must be a non-empty string of at most 120 characters.", errors={"name": ["1–120 characters."]})
    return name.strip()


def _clean_description(description) -> str:
    if description is None:
        return ""
    if not isinstance(description, str) or len(description) > 5000:
        raise Invalid("description must be a string of at most 5,000 characters.", errors={"description": ["At most 5,000 characters."]})
    return description


def layout_create(*, factory: Factory, name, description="", by) -> Layout:
    with transaction.atomic():
        require_role(user=by, factory_id=factory.id, at_least=Role.ENGINEER, action="create layouts")
        layout = Layout.objects.create(factory=factory, name=_clean_name(name), description=_clean_description(description), created_by=by)
        record_change(layout=layout, by=by, kind="layout.create", obj=layout_repr(layout))
    return layout


def layout_update(*, layout: Layout, changes: dict, by, op_id=None) -> Layout:
    unknown = set(changes) - {"name", "description"}
    if unknown:
        raise Invalid(f"Only name and description can be changed here (not {', '.join(sorted(unknown))}).")
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        require_editable(layout, user=by)
        if "name" in changes:
            layout.name = _clean_name(changes["name"])
        if "description" in changes:
            layout.description = _clean_description(changes["description"])
        layout.save(update_fields=["name", "description", "updated_at"])
        record_change(layout=layout, by=by, kind="layout.update", obj=layout_repr(layout), op_id=op_id)
    return layout


def layout_branch(*, layout: Layout, name, description="", by) -> Layout:
    """Deep-copy a layout into a new draft; assets and connections keep their `uid`."""
    with transaction.atomic():
        source = lock_layout(layout.pk)
        require_role(user=by, factory_id=source.factory_id, at_least=Role.ENGINEER, action="branch layouts")
        branch = Layout.objects.create(
            factory=source.factory, name=_clean_name(name), description=_clean_description(description) or f"Branched from {source.name} r{source.revision}",
            parent=source, created_by=by,
        )
        id_map = {}
        originals = list(Asset.objects.filter(layout=source).order_by("id"))
        copies = Asset.objects.bulk_create([
            Asset(uid=a.uid, layout=branch, asset_type_id=a.asset_type_id, name=a.name, twin_key=a.twin_key,
                  x=a.x, z=a.z, rotation_deg=a.rotation_deg, params=a.params) for a in originals
        ])
        if any(c.pk is None for c in copies):  # backends without RETURNING on bulk insert
            copies = list(Asset.objects.filter(layout=branch).order_by("id"))
        for original, copy in zip(originals, copies):
            id_map[original.pk] = copy.pk
        _repoint_operators(copies, id_map)
        Connection.objects.bulk_create([
            Connection(uid=c.uid, layout=branch, source_id=id_map[c.source_id], target_id=id_map[c.target_id],
                       buffer_capacity=c.buffer_capacity, transport_speed_mps=c.transport_speed_mps, weight=c.weight,
                       part_types=c.part_types, quantity=c.quantity)
            for c in Connection.objects.filter(layout=source).order_by("id")
        ])
        record_change(layout=branch, by=by, kind="layout.create", obj=layout_repr(branch),
                      audit_data={**layout_repr(branch), "branched_from": source.id, "from_revision": source.revision})
    return branch


def _repoint_operators(copies: list[Asset], id_map: dict) -> None:
    """Operator references (CONTRACT §7 `operator`, `repair_operator`) are asset ids: in a branch they must name
    the branch's copy of the pool, not the original."""
    changed = []
    for copy in copies:
        refs = {key: id_map[value] for key, value in (copy.params or {}).items() if key in OPERATOR_REFS and value in id_map}
        if refs:
            copy.params = {**copy.params, **refs}
            changed.append(copy)
    Asset.objects.bulk_update(changed, ["params"])


def _transition(*, layout: Layout, by, frm: set, to: str, at_least: str, verb: str, reason: str = "") -> Layout:
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        require_role(user=by, factory_id=layout.factory_id, at_least=at_least, action=f"{verb} layouts")
        if layout.status not in frm:
            raise Forbidden(f"Layout '{layout.name}' is {layout.status}; only a {' or '.join(sorted(frm))} layout can be {PAST[verb]}.")
        previous_baseline = None
        layout.status = to
        layout.reject_reason = reason if to == Layout.Status.REJECTED else ""
        layout.save(update_fields=["status", "reject_reason", "updated_at"])
        if to == Layout.Status.APPROVED:
            factory = Factory.objects.select_for_update().get(pk=layout.factory_id)
            previous_baseline = factory.baseline_layout_id
            factory.baseline_layout = layout
            factory.save(update_fields=["baseline_layout"])
            if previous_baseline and previous_baseline != layout.pk:
                old = lock_layout(previous_baseline)
                old.status = Layout.Status.ARCHIVED
                old.save(update_fields=["status", "updated_at"])
                record_change(layout=old, by=by, kind="layout.update", obj=layout_repr(old), audit_data={"status": "archived", "replaced_by": layout.pk})
        record_change(layout=layout, by=by, kind="layout.update", obj=layout_repr(layout),
                      audit_data={"transition": verb, "status": to, "reason": reason, "previous_baseline": previous_baseline})
    return layout


def layout_submit(*, layout: Layout, by) -> Layout:
    return _transition(layout=layout, by=by, frm={Layout.Status.DRAFT}, to=Layout.Status.IN_REVIEW, at_least=Role.ENGINEER, verb="submit")


def layout_approve(*, layout: Layout, by) -> Layout:
    return _transition(layout=layout, by=by, frm={Layout.Status.IN_REVIEW}, to=Layout.Status.APPROVED, at_least=Role.MANAGER, verb="approve")


def layout_reject(*, layout: Layout, by, reason: str = "") -> Layout:
    if not isinstance(reason, str) or len(reason) > 5000:
        raise Invalid("reason must be a string of at most 5,000 characters.", errors={"reason": ["At most 5,000 characters."]})
    return _transition(layout=layout, by=by, frm={Layout.Status.IN_REVIEW}, to=Layout.Status.REJECTED, at_least=Role.MANAGER, verb="reject", reason=reason)


def layout_archive(*, layout: Layout, by) -> Layout:
    return _transition(layout=layout, by=by, frm={Layout.Status.DRAFT, Layout.Status.REJECTED}, to=Layout.Status.ARCHIVED, at_least=Role.MANAGER, verb="archive")


def layout_set_baseline(*, layout: Layout, by) -> Layout:
    """Seeding and admin: make a layout the factory's baseline directly (approved)."""
    with transaction.atomic():
        layout = lock_layout(layout.pk)
        require_role(user=by, factory_id=layout.factory_id, at_least=Role.OWNER, action="set the baseline")
        layout.status = Layout.Status.APPROVED
        layout.save(update_fields=["status", "updated_at"])
        factory = Factory.objects.select_for_update().get(pk=layout.factory_id)
        previous = factory.baseline_layout_id
        Factory.objects.filter(pk=layout.factory_id).update(baseline_layout=layout)
        if previous and previous != layout.pk:
            old = lock_layout(previous)
            old.status = Layout.Status.ARCHIVED
            old.save(update_fields=["status", "updated_at"])
            record_change(layout=old, by=by, kind="layout.update", obj=layout_repr(old), audit_data={"status": "archived", "replaced_by": layout.pk})
        record_change(layout=layout, by=by, kind="layout.update", obj=layout_repr(layout), audit_data={"status": "approved", "baseline": True})
    return layout
