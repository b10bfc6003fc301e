"""The per-factory audit log as a hash chain: each entry commits to the previous entry's hash and its own content.

Tampering shows up in `audit_verify` as the first entry whose content no longer matches its hash, whose
`prev_hash` no longer matches its predecessor, or whose `seq` skips one (a deleted entry). Removing the
newest entries cannot be seen from the chain alone; compare `checked` with a count kept elsewhere for that.
"""
import hashlib
import json

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from twins.models import Factory

from .models import AuditEntry

GENESIS = "0" * 64


def _canonical(value):
    """The value as both backends give it back: PostgreSQL's jsonb writes integral floats ≥ 1e16 as integers
    and drops the sign of -0.0."""
    if isinstance(value, float):
        if value == 0:
            return 0.0
        if value.is_integer() and abs(value) >= 1e16:
            return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _content(entry: AuditEntry) -> dict:
    return {
        "factory": entry.factory_id,
        "seq": entry.seq,
        "ts": entry.ts.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "layout": entry.layout_id_ref,
        "data": _canonical(entry.data),
    }


def entry_hash(entry: AuditEntry) -> str:
    payload = json.dumps(_content(entry), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((entry.prev_hash + payload).encode()).hexdigest()


def _storable(data) -> dict:
    # JSON round trip (dates and ids become strings); NUL cannot be stored in PostgreSQL's jsonb.
    return json.loads(json.dumps(data or {}, default=str).replace("\\u0000", ""))


def audit_append(*, factory_id: int, actor, action: str, object_type: str = "", object_id="", layout_id=None, data=None) -> AuditEntry:
    """Append one entry; call inside the transaction of the change it records."""
    with transaction.atomic():
        # Serialise appends per factory so that two writers never fork the chain.
        Factory.objects.select_for_update().filter(pk=factory_id).values_list("id").first()
        last = AuditEntry.objects.filter(factory_id=factory_id).order_by("-seq").values("seq", "hash").first()
        entry = AuditEntry(
            factory_id=factory_id,
            seq=(last["seq"] + 1) if last else 1,
            ts=timezone.now(),
            actor=(getattr(actor, "username", None) or (actor if isinstance(actor, str) else ""))[:150],
            action=action[:64],
            object_type=object_type[:32],
            object_id=str(object_id or "")[:64],
            layout_id_ref=layout_id,
            data=_storable(data),
            prev_hash=last["hash"] if last else GENESIS,
        )
        entry.hash = entry_hash(entry)
        entry.save()
        return entry


def audit_verify(*, factory_id: int) -> dict:
    """Walk the chain in `seq` order; `first_bad` is the first seq whose link or content does not match
    (for a deleted entry, the missing seq)."""
    prev = GENESIS
    checked = 0
    expected_seq = 1
    for entry in AuditEntry.objects.filter(factory_id=factory_id).order_by("seq").iterator(chunk_size=2000):
        checked += 1
        if entry.seq != expected_seq:
            return {"ok": False, "checked": checked, "first_bad": expected_seq}
        if entry.prev_hash != prev or entry_hash(entry) != entry.hash:
            return {"ok": False, "checked": checked, "first_bad": entry.seq}
        prev = entry.hash
        expected_seq += 1
    return {"ok": True, "checked": checked, "first_bad": None}


def audit_entries_for_user(*, user) -> QuerySet[AuditEntry]:
    """Entries of the factories the user belongs to (any role; staff see all)."""
    from twins.selectors import factory_ids_for_user

    return AuditEntry.objects.filter(factory__in=factory_ids_for_user(user=user))
