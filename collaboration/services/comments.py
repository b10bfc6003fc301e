"""Comment threads pinned to an asset or a 3D point, carrying the author's camera (CONTRACT.md §3 `comments`).

Any member may comment (viewers too); authors edit their own; authors and managers+ delete; authors and
engineers+ resolve and reopen. Comments are not layout edits: they do not bump the layout revision, so a
simulation of the layout does not go stale when someone comments on it.
"""
import math
import re

from django.db import transaction

from twins.errors import Forbidden, Invalid
from twins.models import Asset, Layout, Membership, Role
from twins.selectors import role_for

from .. import events
from ..audit import audit_append
from ..models import Comment

TEXT_MAX = 4000
COORD_LIMIT = 1e6
FIELDS = {"text", "asset", "position", "camera", "parent"}
EDITABLE = {"text", "asset", "position", "camera"}
# Django usernames are letters, digits and @.+-_; "@bob." at the end of a sentence still mentions bob.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]{1,150})")


def _dt(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def comment_repr(comment: Comment, *, mentions: list, updated_at=None) -> dict:
    return {
        "id": comment.id,
        "layout": comment.layout_id,
        "author": comment.author.username,
        "author_id": comment.author_id,
        "text": comment.text,
        "asset": comment.asset_id,
        "position": comment.position,
        "camera": comment.camera,
        "resolved": comment.resolved,
        "parent": comment.parent_id,
        "mentions": mentions,
        "created_at": _dt(comment.created_at),
        "updated_at": _dt(updated_at or comment.created_at),
    }


def parse_mentions(text: str, *, factory_id: int) -> list[str]:
    """Usernames @mentioned in the text that are members of the factory, in order of first mention."""
    candidates = _candidates(text)
    if not candidates:
        return []
    members = set(Membership.objects.filter(factory_id=factory_id, user__username__in=set(candidates)).values_list("user__username", flat=True))
    return [name for name in candidates if name in members]


def comment_reprs(comments: list[Comment]) -> list[dict]:
    """Representations of many comments; mentions are stored when the text is saved."""
    return [comment_repr(c, mentions=c.mentions, updated_at=c.updated_at) for c in comments]


def _candidates(text: str) -> list[str]:
    out = []
    for match in MENTION.finditer(text or ""):
        for name in (match.group(1), match.group(1).rstrip(".")):
            if name not in out:
                out.append(name)
    return out


# --- validation -------------------------------------------------------------------------------------------

def _numbers(value, *, field: str, length: int) -> list[float]:
    if not isinstance(value, list) or len(value) != length:
        raise Invalid(f"{field} must be a list of {length} numbers.", errors={field: [f"A list of {length} numbers."]})
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or abs(v) > COORD_LIMIT:
            raise Invalid(f"{field} must hold finite numbers.", errors={field: ["Finite numbers only."]})
        out.append(float(v))
    return out


def _clean_text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise Invalid("text must be a non-empty string.", errors={"text": ["This field may not be blank."]})
    if len(text) > TEXT_MAX:
        raise Invalid(f"text must be at most {TEXT_MAX:,} characters.", errors={"text": [f"At most {TEXT_MAX:,} characters."]})
    if "\x00" in text:
        raise Invalid("text must not contain NUL characters.", errors={"text": ["NUL characters are not allowed."]})
    return text.strip()


def _clean_camera(camera):
    if camera is None:
        return None
    if not isinstance(camera, dict) or set(camera) != {"p", "q"}:
        raise Invalid("camera must be {\"p\": [x,y,z], \"q\": [x,y,z,w]} or null.", errors={"camera": ["An object with p and q."]})
    p = _numbers(camera["p"], field="camera", length=3)
    q = _numbers(camera["q"], field="camera", length=4)
    if sum(v * v for v in q) < 1e-12:
        raise Invalid("camera.q must be a rotation quaternion, not zero.", errors={"camera": ["q must not be zero."]})
    return {"p": p, "q": q}


def _clean_ref(model, value, *, field: str, layout: Layout):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{field} must be an id or null.", errors={field: ["Must be an integer id or null."]})
    obj = model.objects.filter(pk=value, layout_id=layout.pk).first()
    if obj is None:
        raise Invalid(f"{field} {value} is not in this layout.", errors={field: ["Not in this layout."]})
    return obj


def _clean(data: dict, *, layout: Layout, allowed: set) -> dict:
    if not isinstance(data, dict):
        raise Invalid("The comment must be a JSON object.")
    unknown = set(data) - allowed
    if unknown:
        raise Invalid(f"Unknown or read-only field(s): {', '.join(sorted(unknown))}.", errors={f: ["Unknown or read-only field."] for f in sorted(unknown)})
    cleaned = {}
    if "text" in data:
        cleaned["text"] = _clean_text(data["text"])
    if "position" in data:
        cleaned["position"] = None if data["position"] is None else _numbers(data["position"], field="position", length=3)
    if "camera" in data:
        cleaned["camera"] = _clean_camera(data["camera"])
    if "asset" in data:
        cleaned["asset"] = _clean_ref(Asset, data["asset"], field="asset", layout=layout)
    if "parent" in data:
        parent = _clean_ref(Comment, data["parent"], field="parent", layout=layout)
        # Threads are one level deep: a reply to a reply joins the thread of its root.
        cleaned["parent"] = parent.parent if parent is not None and parent.parent_id else parent
    return cleaned


# --- permissions ------------------------------------------------------------------------------------------

def _require_member(*, user, layout: Layout) -> str:
    role = role_for(user=user, factory_id=layout.factory_id)
    if role is None:
        raise Forbidden("Only members of this factory can comment.")
    return role


def _audit(comment: Comment, *, by, verb: str, data: dict) -> None:
    audit_append(factory_id=comment.layout.factory_id, actor=by, action=f"comment.{verb}", object_type="comment",
                 object_id=comment.id, layout_id=comment.layout_id, data=data)


def _publish(comment_data: dict, *, action: str) -> None:
    events.publish_to_layout(comment_data["layout"], {"type": "comment", "action": action, "comment": comment_data})


def _snapshot(comment: Comment, mentions: list) -> dict:
    return {"text": comment.text, "asset": comment.asset_id, "position": comment.position, "camera": comment.camera,
            "parent": comment.parent_id, "resolved": comment.resolved, "mentions": mentions}


# --- services ---------------------------------------------------------------------------------------------

def comment_create(*, layout: Layout, data: dict, by) -> Comment:
    """A new comment or reply; `data` holds text (required), asset, position, camera, parent."""
    data = {k: v for k, v in (data or {}).items() if k != "layout"} if isinstance(data, dict) else data
    cleaned = _clean(data, layout=layout, allowed=FIELDS)
    if "text" not in cleaned:
        raise Invalid("text is required.", errors={"text": ["This field is required."]})
    with transaction.atomic():
        _require_member(user=by, layout=layout)
        mentions = parse_mentions(cleaned["text"], factory_id=layout.factory_id)
        comment = Comment.objects.create(layout=layout, author=by, mentions=mentions, **cleaned)
        _audit(comment, by=by, verb="create", data=_snapshot(comment, mentions))
        _publish(comment_repr(comment, mentions=mentions, updated_at=comment.updated_at), action="created")
    return comment


def _locked(comment: Comment) -> Comment:
    return Comment.objects.select_for_update().select_related("layout", "author").get(pk=comment.pk)


def comment_update(*, comment: Comment, changes: dict, by) -> Comment:
    """Edit text, pin or camera (the author only); `resolved` in the changes resolves or reopens."""
    changes = dict(changes) if isinstance(changes, dict) else changes
    if isinstance(changes, dict) and "resolved" in changes:
        resolved = changes.pop("resolved")
        if not isinstance(resolved, bool):
            raise Invalid("resolved must be true or false.", errors={"resolved": ["Must be a boolean."]})
        with transaction.atomic():
            if changes:
                comment = comment_update(comment=comment, changes=changes, by=by)
            return comment_resolve(comment=comment, resolved=resolved, by=by)
    with transaction.atomic():
        comment = _locked(comment)
        _require_member(user=by, layout=comment.layout)
        if comment.author_id != by.id:
            raise Forbidden("Only the author can edit a comment.")
        cleaned = _clean(changes, layout=comment.layout, allowed=EDITABLE)
        if not cleaned:
            return comment
        for field, value in cleaned.items():
            setattr(comment, field, value)
        mentions = parse_mentions(comment.text, factory_id=comment.layout.factory_id)
        comment.mentions = mentions
        comment.save()
        _audit(comment, by=by, verb="update", data={"changes": sorted(cleaned), **_snapshot(comment, mentions)})
        _publish(comment_repr(comment, mentions=mentions, updated_at=comment.updated_at), action="updated")
    return comment


def comment_resolve(*, comment: Comment, resolved: bool = True, by) -> Comment:
    """Resolve (or reopen, with resolved=False) a comment: its author or an engineer and up."""
    with transaction.atomic():
        comment = _locked(comment)
        role = _require_member(user=by, layout=comment.layout)
        if comment.author_id != by.id and Role.rank(role) < Role.rank(Role.ENGINEER):
            raise Forbidden(f"Only the author or an engineer and up can {'resolve' if resolved else 'reopen'} a comment.")
        mentions = parse_mentions(comment.text, factory_id=comment.layout.factory_id)
        if comment.resolved != resolved:
            comment.resolved = resolved
            comment.save(update_fields=["resolved", "updated_at"])
            _audit(comment, by=by, verb="resolve" if resolved else "reopen", data={"resolved": resolved})
            _publish(comment_repr(comment, mentions=mentions, updated_at=comment.updated_at), action="resolved" if resolved else "updated")
    return comment


def comment_delete(*, comment: Comment, by) -> None:
    """Delete a comment and its replies: its author, or a manager and up (moderation)."""
    with transaction.atomic():
        comment = _locked(comment)
        role = _require_member(user=by, layout=comment.layout)
        if comment.author_id != by.id and Role.rank(role) < Role.rank(Role.MANAGER):
            raise Forbidden("Only the author or a manager can delete a comment.")
        replies = sorted(comment.replies.values_list("id", flat=True))
        mentions = parse_mentions(comment.text, factory_id=comment.layout.factory_id)
        _audit(comment, by=by, verb="delete", data={**_snapshot(comment, mentions), "author": comment.author.username, "replies": replies})
        payload = {"id": comment.id, "layout": comment.layout_id, "parent": comment.parent_id, "asset": comment.asset_id,
                   "deleted": True, "replies": replies}
        comment.delete()
        _publish(payload, action="deleted")
