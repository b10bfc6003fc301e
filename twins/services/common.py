"""What every layout change shares: permission, the layout lock, the revision bump, audit and broadcast."""
import logging
import math

from django.db.models import F
from django.utils import timezone

from collaboration import events, redis_state
from collaboration.audit import audit_append

from ..errors import Forbidden, Invalid, Locked
from ..models import Layout, Role
from ..selectors import role_for

log = logging.getLogger(__name__)


def require_role(*, user, factory_id: int, at_least: str, action: str) -> str:
    role = role_for(user=user, factory_id=factory_id)
    if Role.rank(role) < Role.rank(at_least):
        raise Forbidden(f"You need the {at_least} role or higher to {action}.")
    return role


def lock_layout(layout_id: int) -> Layout:
    """Take the layout's row lock: changes to one layout are serialised, so revision order = commit order."""
    return Layout.objects.select_for_update().select_related("factory").get(pk=layout_id)


def require_editable(layout: Layout, *, user, action: str = "edit this layout") -> None:
    require_role(user=user, factory_id=layout.factory_id, at_least=Role.ENGINEER, action=action)
    if not layout.is_editable:
        raise Forbidden(f"Layout '{layout.name}' is {layout.status} and read-only; branch it to make changes.")


def check_lock(asset_id: int, *, user) -> None:
    try:
        holder = redis_state.lock_holder(asset_id)
    except Exception:  # Redis away: soft locks are advisory, versions still protect the data.
        log.warning("lock check skipped for asset %s", asset_id, exc_info=True)
        return
    if holder is not None and holder != getattr(user, "id", None):
        raise Locked("Someone else is moving this asset right now; try again when they let go.")


# Changes to the layout's own record (name, description, workflow status, reject reason). The simulation
# reads none of it (twins/simulation_model.py), so these kinds alone leave a run current.
METADATA_KINDS = frozenset({"layout.update"})


def is_content_kind(kind: str) -> bool:
    """Can a change of this kind alter simulation results? Every kind but the metadata ones.

    The simulation reads the assets (type, params, position: transport time is distance / speed; names
    label the results) and the connections, so every `asset.*` and `connection.*` kind counts as a whole,
    even when one change of it could not matter (moving a decor asset). `layout.create` counts: a layout,
    or a branch, starts with its content. An unknown kind counts too: a run wrongly shown stale costs a
    rerun, one wrongly shown current misleads a review. Mirrored in frontend/src/editor/contentKinds.js.
    """
    return kind not in METADATA_KINDS


def bump_revision(layout: Layout, *, content: bool) -> int:
    """The next revision; with `content`, also the layout's `content_revision` (simulations older go stale)."""
    bumped = {"revision": F("revision") + 1, "updated_at": timezone.now()}
    if content:
        bumped["content_revision"] = F("revision") + 1  # SQL reads the old revision on the right-hand side
    Layout.objects.filter(pk=layout.pk).update(**bumped)
    layout.refresh_from_db(fields=["revision", "content_revision", "updated_at"])
    return layout.revision


def record_change(*, layout: Layout, by, kind: str, obj: dict, op_id=None, audit_data=None) -> int:
    """Bump the revision (and the content revision for a content kind), append the audit entry and
    schedule the broadcast; returns the new seq."""
    seq = bump_revision(layout, content=is_content_kind(kind))
    object_type = kind.partition(".")[0]
    audit_append(
        factory_id=layout.factory_id, actor=by, action=kind, object_type=object_type,
        object_id=obj.get("id", ""), layout_id=layout.id, data=audit_data if audit_data is not None else obj,
    )
    events.publish_applied(layout_id=layout.id, seq=seq, op_id=op_id, by=getattr(by, "id", None), kind=kind, obj=obj)
    return seq


def finite_number(value, *, field: str, minimum=None, maximum=None, allow_none=False, integer=False):
    if value is None:
        if allow_none:
            return None
        raise Invalid(f"{field} is required.", errors={field: ["This field is required."]})
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(f"{field} must be a number.", errors={field: ["Must be a number."]})
    if not math.isfinite(value):
        raise Invalid(f"{field} must be a finite number.", errors={field: ["Must be finite."]})
    if integer and int(value) != value:
        raise Invalid(f"{field} must be a whole number.", errors={field: ["Must be a whole number."]})
    if minimum is not None and value < minimum:
        raise Invalid(f"{field} must be at least {minimum}.", errors={field: [f"Must be ≥ {minimum}."]})
    if maximum is not None and value > maximum:
        raise Invalid(f"{field} must be at most {maximum}.", errors={field: [f"Must be ≤ {maximum}."]})
    return int(value) if integer else float(value)
