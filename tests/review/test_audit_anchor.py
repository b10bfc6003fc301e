"""The audit head: deleting the newest entries (which leaves a shorter, valid chain) is reported, by the head row
in the database and, when the database's head was rewritten too, by the append-only anchor file."""
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connections, transaction

from collaboration.audit import audit_append, audit_verify, entry_hash
from collaboration.models import AuditEntry, AuditHead

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def chain(factory):
    return list(AuditEntry.objects.filter(factory=factory).order_by("seq"))


def append(factory, n, start=1):
    for i in range(start, start + n):
        audit_append(factory_id=factory.id, actor="alice", action="test.note", data={"n": i})


@pytest.fixture
def anchor(settings, tmp_path):
    """The anchor file of this test, on a tmp path."""
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "audit-anchor.log")
    return Path(settings.AUDIT_ANCHOR_FILE)


@pytest.fixture
def anchored(people, anchor, django_capture_on_commit_callbacks):
    """`plant` with four committed entries, each of them anchored in the file."""
    with django_capture_on_commit_callbacks(execute=True):
        append(people["plant"], 4)
    return people["plant"]


def anchor_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_append_moves_the_head_to_the_newest_entry(people):
    append(people["plant"], 3)
    head = AuditHead.objects.get(factory=people["plant"])
    newest = chain(people["plant"])[-1]
    assert (head.seq, head.hash) == (3, newest.hash)


def test_truncated_tail_is_reported_with_the_first_missing_seq(people, client_for):
    plant = people["plant"]
    append(plant, 4)
    newest = chain(plant)[-1]
    AuditEntry.objects.filter(factory=plant, seq__gt=2).delete()
    body = client_for(people["victor"]).get(f"/api/audit/verify/?factory={plant.id}").json()
    assert (body["ok"], body["checked"], body["first_bad"], body["reason"]) == (False, 2, 3, "truncated")
    assert body["expected_head"] == {"seq": 4, "hash": newest.hash, "source": "database"}
    assert "entries 3–4 were deleted from the end" in body["message"]


def test_deleting_every_entry_is_reported(people):
    append(people["plant"], 2)
    AuditEntry.objects.filter(factory=people["plant"]).delete()
    result = audit_verify(factory_id=people["plant"].id)
    assert (result["ok"], result["checked"], result["first_bad"], result["reason"]) == (False, 0, 1, "truncated")


def test_an_append_after_a_truncation_keeps_the_gap_visible(people):
    plant = people["plant"]
    append(plant, 4)
    old_head = chain(plant)[-1].hash
    AuditEntry.objects.filter(factory=plant, seq__gt=2).delete()
    entry = audit_append(factory_id=plant.id, actor="bob", action="test.note")
    assert (entry.seq, entry.prev_hash) == (5, old_head)
    result = audit_verify(factory_id=plant.id)
    assert (result["ok"], result["first_bad"], result["reason"]) == (False, 3, "missing")


def test_a_replaced_newest_entry_is_reported(people):
    plant = people["plant"]
    append(plant, 3)
    newest = chain(plant)[-1]
    newest.data = {"forged": True}
    AuditEntry.objects.filter(pk=newest.pk).update(data=newest.data, hash=entry_hash(newest))
    result = audit_verify(factory_id=plant.id)
    assert (result["ok"], result["checked"], result["first_bad"], result["reason"]) == (False, 3, 3, "head_mismatch")


def test_entries_past_the_head_are_reported(people):
    plant = people["plant"]
    append(plant, 3)
    AuditHead.objects.filter(factory=plant).update(seq=2, hash=chain(plant)[1].hash)
    result = audit_verify(factory_id=plant.id)
    assert (result["ok"], result["first_bad"], result["reason"]) == (False, 3, "beyond_head")


def test_a_deleted_head_is_reported(people):
    append(people["plant"], 2)
    AuditHead.objects.filter(factory=people["plant"]).delete()
    result = audit_verify(factory_id=people["plant"].id)
    assert (result["ok"], result["checked"], result["first_bad"], result["reason"]) == (False, 2, 3, "head_missing")


def test_an_intact_chain_keeps_the_contract_response(people, anchored, client_for):
    body = client_for(people["victor"]).get(f"/api/audit/verify/?factory={anchored.id}").json()
    assert body == {"ok": True, "checked": 4, "first_bad": None}


def test_each_committed_append_adds_one_anchor_line(anchored, anchor):
    lines = anchor_lines(anchor)
    assert [(line["factory"], line["seq"], line["hash"]) for line in lines] == [(anchored.id, e.seq, e.hash) for e in chain(anchored)]


def test_a_rolled_back_append_leaves_no_anchor_line(people, anchor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        append(people["plant"], 1)
        with pytest.raises(RuntimeError), transaction.atomic():
            append(people["plant"], 1, start=2)
            raise RuntimeError("the change failed after its audit entry")
    assert [line["seq"] for line in anchor_lines(anchor)] == [1]
    assert audit_verify(factory_id=people["plant"].id)["ok"] is True


def test_the_anchor_file_catches_a_truncation_that_also_rewrote_the_head(anchored, anchor, client_for, people):
    old_head = chain(anchored)[-1].hash
    AuditEntry.objects.filter(factory=anchored, seq__gt=2).delete()
    AuditHead.objects.filter(factory=anchored).update(seq=2, hash=chain(anchored)[-1].hash)
    body = client_for(people["olivia"]).get(f"/api/audit/verify/?factory={anchored.id}").json()
    assert (body["ok"], body["checked"], body["first_bad"], body["reason"]) == (False, 2, 3, "truncated")
    assert body["expected_head"] == {"seq": 4, "hash": old_head, "source": "anchor_file"}
    assert "the anchor file (AUDIT_ANCHOR_FILE)" in body["message"] and str(anchor) not in body["message"]  # no server paths to members


def test_the_anchor_file_finds_where_a_rewritten_log_starts(anchored):
    """A forger recomputes every hash from entry 3 on and moves the head: the chain and the head agree."""
    prev = chain(anchored)[1].hash
    for entry in chain(anchored)[2:]:
        entry.prev_hash, entry.data = prev, {"forged": True}
        entry.hash = prev = entry_hash(entry)
        entry.save()
    AuditHead.objects.filter(factory=anchored).update(hash=prev)
    result = audit_verify(factory_id=anchored.id)
    assert (result["ok"], result["checked"], result["first_bad"], result["reason"]) == (False, 4, 3, "anchor_mismatch")


def test_the_anchor_file_may_lag_the_chain(anchored):
    """Appends not in the file (a crash between commit and write, anchoring turned on later) are no tampering."""
    append(anchored, 2, start=5)  # committed by the test's transaction only: no anchor line
    assert audit_verify(factory_id=anchored.id) == {"ok": True, "checked": 6, "first_bad": None}


def test_anchor_lines_of_another_database_and_torn_lines_are_ignored(anchored, anchor):
    with anchor.open("a") as handle:
        handle.write(json.dumps({"db": "sqlite:/elsewhere/bench.sqlite3", "factory": anchored.id, "seq": 99, "hash": "f" * 64}) + "\n")
        handle.write('{"db": "sqlite:/x", "factory": ')  # a crash in the middle of a write
    assert audit_verify(factory_id=anchored.id) == {"ok": True, "checked": 4, "first_bad": None}


def test_no_anchor_file_checks_only_the_database(people, settings, tmp_path):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "not-there.log")
    append(people["plant"], 2)
    assert audit_verify(factory_id=people["plant"].id) == {"ok": True, "checked": 2, "first_bad": None}
    settings.AUDIT_ANCHOR_FILE = ""
    assert audit_verify(factory_id=people["plant"].id) == {"ok": True, "checked": 2, "first_bad": None}


def test_an_unwritable_anchor_file_does_not_fail_the_change(people, settings, tmp_path, django_capture_on_commit_callbacks, caplog):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path)  # a directory: open() fails
    with django_capture_on_commit_callbacks(execute=True):
        entry = audit_append(factory_id=people["plant"].id, actor="alice", action="test.note")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
    assert "Could not append audit head 1" in caplog.text


def test_verify_audit_command_reports_a_truncated_tail(anchored, anchor, people):
    AuditEntry.objects.filter(factory=anchored, seq=4).delete()
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", stdout=out)
    assert exit_info.value.code == 1
    assert "plant: BROKEN at seq 4 (3 entries checked): The chain ends at entry 3" in out.getvalue()
    assert "other-plant: ok, 0 entries" in out.getvalue()
    assert f"Anchor file: {anchor} (1 factories anchored)" in out.getvalue()


def test_the_migration_fills_the_heads_of_existing_chains(people):
    append(people["plant"], 3)
    AuditHead.objects.all().delete()
    migration = importlib.import_module("collaboration.migrations.0003_audithead")
    migration.fill_heads(apps, None)
    assert list(AuditHead.objects.values_list("factory", "seq", "hash")) == [(people["plant"].id, 3, chain(people["plant"])[-1].hash)]
    assert audit_verify(factory_id=people["plant"].id)["ok"] is True


def test_the_head_is_read_only_in_the_admin(admin_client, people):
    append(people["plant"], 1)
    assert admin_client.get(f"/admin/collaboration/audithead/{people['plant'].id}/change/").status_code == 200
    assert admin_client.post(f"/admin/collaboration/audithead/{people['plant'].id}/delete/", {"post": "yes"}).status_code == 403
    assert AuditHead.objects.filter(factory=people["plant"]).exists()


APPENDER = """
import sys, django
django.setup()
from collaboration.audit import audit_append
factory, worker, n = map(int, sys.argv[1:4])
for i in range(n):
    audit_append(factory_id=factory, actor="system", action="test.concurrent", data={"worker": worker, "i": i})
"""


def database_url_for_subprocesses() -> str:
    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "") + (":" + quote(db["PASSWORD"]) if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_several_processes_keep_one_chain_head_and_anchor(people, anchor):
    plant, workers, each = people["plant"], 3, 15
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "metaverse.settings", "DATABASE_URL": database_url_for_subprocesses(),
           "AUDIT_ANCHOR_FILE": str(anchor)}
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(plant.id), str(w), str(each)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for w in range(workers)]
    for proc in procs:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output
    total = workers * each
    assert audit_verify(factory_id=plant.id) == {"ok": True, "checked": total, "first_bad": None}
    head = AuditHead.objects.get(factory=plant)
    assert (head.seq, head.hash) == (total, chain(plant)[-1].hash)
    assert sorted(line["seq"] for line in anchor_lines(anchor)) == list(range(1, total + 1))
