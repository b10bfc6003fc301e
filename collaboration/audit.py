"""The per-factory audit log as a hash chain: each entry commits to the previous entry's hash and its own content.

Tampering shows up in `audit_verify` as the first entry whose content no longer matches its hash, whose
`prev_hash` no longer matches its predecessor, or whose `seq` skips one (a deleted entry). Deleting the newest
entries leaves a shorter chain that is valid on its own, so every append also records the chain's head where
such a delete does not rewrite it along with the entries:

- `AuditHead`, one row per factory, moved in the append's transaction under the same lock. It catches a
  careless or partial `DELETE ... WHERE seq > N`; whoever can write the database can rewrite it too.
- the anchor file `settings.AUDIT_ANCHOR_FILE`, one JSON line per committed append, only ever appended to. It
  catches a truncation done in the database alone, head row included, as long as it lives where the database's
  administrators cannot write (another host, `chattr +a`, a log shipper). Empty turns it off.
"""
import hashlib
import json
import logging
import os
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from twins.models import Factory

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64

logger = logging.getLogger(__name__)


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


# --- the anchor file -----------------------------------------------------------------------------------

def _anchor_db() -> str:
    """Names the database in each anchor line: one file may hear from several databases (a benchmark's, a
    test stack's), and only this database's lines say anything about this database's chains. The host is
    left out so that processes that spell it differently (localhost, 127.0.0.1) still share their lines."""
    return f"{connection.vendor}:{connection.settings_dict['NAME']}"


def _anchor_write(path: str, line: dict) -> None:
    """Append one head to the anchor file, after the commit (a rolled-back append must leave no line that
    points past the real chain). One O_APPEND write per line, so concurrent processes never interleave."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, (json.dumps(line, separators=(",", ":")) + "\n").encode())
        finally:
            os.close(fd)
    except OSError as exc:
        # The change and its entry are committed; only this head goes unanchored.
        logger.error("Could not append audit head %s of factory %s to AUDIT_ANCHOR_FILE %s: %s. "
                     "Fix the path or its permissions; later heads anchor the chain again.", line["seq"], line["factory"], path, exc)


def _anchor_lines():
    """(factory, seq, hash) of every readable line of this database in the anchor file, in file order; a line
    torn by a crash mid-write is skipped."""
    path = settings.AUDIT_ANCHOR_FILE
    if not path or not os.path.exists(path):
        return
    db = _anchor_db()
    with open(path, "rb") as handle:
        for raw in handle:
            try:
                line = json.loads(raw)
                if line["db"] == db:
                    yield int(line["factory"]), int(line["seq"]), str(line["hash"])
            except (ValueError, KeyError, TypeError):
                continue


def audit_anchor_heads() -> dict[int, tuple[int, str]]:
    """The newest anchored head per factory id: `{factory_id: (seq, hash)}`; empty without an anchor file."""
    heads = {}
    for factory_id, seq, hash_ in _anchor_lines():
        if factory_id not in heads or seq >= heads[factory_id][0]:
            heads[factory_id] = (seq, hash_)
    return heads


def _anchor_first_disagreement(*, factory_id: int, up_to: int) -> int:
    """The lowest seq whose anchored hash differs from the chain's: where a rewrite of the log starts."""
    anchored = {seq: hash_ for f, seq, hash_ in _anchor_lines() if f == factory_id and seq <= up_to}
    chain = AuditEntry.objects.filter(factory_id=factory_id, seq__lte=up_to).order_by("seq").values_list("seq", "hash")
    for seq, hash_ in chain.iterator(chunk_size=2000):
        if seq in anchored and anchored[seq] != hash_:
            return seq
    return up_to


# --- append ----------------------------------------------------------------------------------------------

def _next_link(factory_id: int) -> tuple[int, str]:
    """(seq, hash) the next entry attaches to. The head wins over the newest entry left in the table, so an
    append after a truncation links past the gap and verification keeps reporting it."""
    head = AuditHead.objects.filter(factory_id=factory_id).values_list("seq", "hash").first()
    last = AuditEntry.objects.filter(factory_id=factory_id).order_by("-seq").values_list("seq", "hash").first()
    if head and last and last != head:
        logger.warning("Audit chain of factory %s ends at %s but its head is %s; run `manage.py verify_audit`.",
                       factory_id, last, head)
    if head and (not last or last[0] <= head[0]):
        return head
    # No head yet (a new factory), or entries past the head: attaching below them would collide on seq.
    return last or (0, GENESIS)


def audit_append(*, factory_id: int, actor, action: str, object_type: str = "", object_id="", layout_id=None, data=None) -> AuditEntry:
    """Append one entry and move the head; call inside the transaction of the change it records."""
    with transaction.atomic():
        # Serialise appends per factory so that two writers never fork the chain or move the head backwards.
        Factory.objects.select_for_update().filter(pk=factory_id).values_list("id").first()
        seq, prev_hash = _next_link(factory_id)
        entry = AuditEntry(
            factory_id=factory_id,
            seq=seq + 1,
            ts=timezone.now(),
            actor=(getattr(actor, "username", None) or (actor if isinstance(actor, str) else ""))[:150],
            action=action[:64],
            object_type=object_type[:32],
            object_id=str(object_id or "")[:64],
            layout_id_ref=layout_id,
            data=_storable(data),
            prev_hash=prev_hash,
        )
        entry.hash = entry_hash(entry)
        entry.save()
        head = {"seq": entry.seq, "hash": entry.hash, "updated_at": entry.ts}
        if not AuditHead.objects.filter(factory_id=factory_id).update(**head):
            AuditHead.objects.create(factory_id=factory_id, **head)
        if settings.AUDIT_ANCHOR_FILE:
            line = {"db": _anchor_db(), "factory": factory_id, "seq": entry.seq, "hash": entry.hash, "ts": entry.ts.isoformat()}
            transaction.on_commit(partial(_anchor_write, settings.AUDIT_ANCHOR_FILE, line))
        return entry


# --- verify ----------------------------------------------------------------------------------------------

SOURCES = {"database": "the audit head in the database", "anchor_file": "the anchor file (AUDIT_ANCHOR_FILE)"}
RECREATED = " If this database was recreated on purpose, move the anchor file aside."


def _broken(*, checked: int, first_bad: int, reason: str, message: str, expected=None, source=None) -> dict:
    result = {"ok": False, "checked": checked, "first_bad": first_bad, "reason": reason, "message": message}
    if expected:
        result["expected_head"] = {"seq": expected[0], "hash": expected[1], "source": source}
    return result


def _tail_problem(*, factory_id: int, last: int, hashes: dict, source: str, recorded) -> dict | None:
    """What a recorded head says about a chain that is intact from 1 to `last`, or None if it agrees."""
    where, hint = SOURCES[source], RECREATED if source == "anchor_file" else ""
    if recorded is None:
        if source == "database" and last:
            return _broken(checked=last, first_bad=last + 1, reason="head_missing", message=(
                f"The audit head of this factory was deleted, so nothing vouches that entry {last} is the newest: "
                "entries after it may have been deleted too. Compare with the anchor file or a backup."))
        return None  # no anchor file, or nothing anchored yet for this factory
    seq, hash_ = recorded
    if seq > last:
        return _broken(checked=last, first_bad=last + 1, reason="truncated", expected=recorded, source=source, message=(
            f"The chain ends at entry {last} but {where} records entry {seq} as the newest: entries {last + 1}–{seq} "
            f"were deleted from the end of the log. Restore them from a backup.{hint}"))
    if hashes.get(seq) != hash_:
        if source == "anchor_file":
            first = _anchor_first_disagreement(factory_id=factory_id, up_to=seq)
            return _broken(checked=last, first_bad=first, reason="anchor_mismatch", expected=recorded, source=source, message=(
                f"Entry {first} differs from the one recorded in {where}: the log was rewritten from there on.{hint}"))
        return _broken(checked=last, first_bad=seq, reason="head_mismatch", expected=recorded, source=source, message=(
            f"Entry {seq} is not the entry {where} records as the newest: it was replaced after it was written."))
    if seq < last and source == "database":
        return _broken(checked=last, first_bad=seq + 1, reason="beyond_head", expected=recorded, source=source, message=(
            f"Entries {seq + 1}–{last} come after the recorded head (entry {seq}): they were not written by the "
            "application, or the head was rolled back."))
    return None  # the anchor file may lag the chain (a crash between commit and write, anchoring turned on later)


def audit_verify(*, factory_id: int, anchors: dict | None = None) -> dict:
    """Walk the chain in `seq` order, then hold its end against the recorded heads.

    `{"ok", "checked", "first_bad"}` (CONTRACT.md), where `first_bad` is the first seq whose link or content does
    not match, or that is missing (deleted in the middle or at the end). A broken chain adds `reason`, a
    `message` that says what happened, and for a problem at the end the `expected_head` that was recorded.
    `anchors` is `audit_anchor_heads()`, passed in when verifying many factories so the file is read once.
    """
    head = AuditHead.objects.filter(factory_id=factory_id).values_list("seq", "hash").first()
    anchored = (audit_anchor_heads() if anchors is None else anchors).get(factory_id)
    watched = {recorded[0] for recorded in (head, anchored) if recorded}
    hashes, prev, checked = {}, GENESIS, 0
    for entry in AuditEntry.objects.filter(factory_id=factory_id).order_by("seq").iterator(chunk_size=2000):
        checked += 1
        if entry.seq != checked:
            return _broken(checked=checked, first_bad=checked, reason="missing", message=(
                f"Entry {checked} is missing: the chain jumps from {checked - 1} to {entry.seq}. "
                "Entries were deleted from the middle of the log; restore them from a backup."))
        if entry.prev_hash != prev:
            return _broken(checked=checked, first_bad=entry.seq, reason="link", message=(
                f"Entry {entry.seq} does not link to entry {entry.seq - 1}: the one before it was rewritten "
                "with a recomputed hash, or this one's prev_hash was changed."))
        if entry_hash(entry) != entry.hash:
            return _broken(checked=checked, first_bad=entry.seq, reason="content", message=(
                f"Entry {entry.seq} no longer matches its hash: its content was changed after it was written."))
        if entry.seq in watched:
            hashes[entry.seq] = entry.hash
        prev = entry.hash
    problems = [_tail_problem(factory_id=factory_id, last=checked, hashes=hashes, source=source, recorded=recorded)
                for source, recorded in (("database", head), ("anchor_file", anchored))]
    problems = [p for p in problems if p]
    if problems:
        # The earliest damage first; for a truncation seen by both, the head that reaches furthest.
        return min(problems, key=lambda p: (p["first_bad"], -p.get("expected_head", {}).get("seq", 0)))
    return {"ok": True, "checked": checked, "first_bad": None}


def audit_entries_for_user(*, user) -> QuerySet[AuditEntry]:
    """Entries of the factories the user belongs to (any role; staff see all)."""
    from twins.selectors import factory_ids_for_user

    return AuditEntry.objects.filter(factory__in=factory_ids_for_user(user=user))
