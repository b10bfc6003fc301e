"""The per-factory audit log as a hash chain: each entry commits to the previous entry's hash and its own content."""
import hashlib
import json

from django.db import transaction
from django.utils import timezone

from twins.models import Factory

from .models import AuditEntry

GENESIS = "0" * 64


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
        "data": entry.data,
    }


def entry_hash(entry: AuditEntry) -> str:
    payload = json.dumps(_content(entry), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((entry.prev_hash + payload).encode()).hexdigest()


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
            actor=getattr(actor, "username", None) or (actor if isinstance(actor, str) else ""),
            action=action,
            object_type=object_type,
            object_id=str(object_id or ""),
            layout_id_ref=layout_id,
            data=json.loads(json.dumps(data or {}, default=str)),
            prev_hash=last["hash"] if last else GENESIS,
        )
        entry.hash = entry_hash(entry)
        entry.save()
        return entry


def audit_verify(*, factory_id: int) -> dict:
    """Walk the chain; report the first entry whose link or content does not match."""
    prev = GENESIS
    checked = 0
    expected_seq = 1
    for entry in AuditEntry.objects.filter(factory_id=factory_id).order_by("seq").iterator():
        checked += 1
        if entry.seq != expected_seq or entry.prev_hash != prev or entry_hash(entry) != entry.hash:
            return {"ok": False, "checked": checked, "first_bad": entry.seq if entry.seq == expected_seq else expected_seq}
        prev = entry.hash
        expected_seq += 1
    return {"ok": True, "checked": checked, "first_bad": None}
