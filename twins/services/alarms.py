"""Alarm rules (owners), alarms raised and cleared with hysteresis by ingestion, acknowledged by engineers;
`drift` alarms (CONTRACT §9) raised and cleared by the plan-against-actual evaluation."""
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from collaboration import events
from collaboration.audit import audit_append

from ..errors import Forbidden, Invalid
from ..models import Alarm, AlarmRule, Role, Twin
from .common import finite_number, require_role
from .telemetry_repr import alarm_repr, alarm_rule_repr
from .telemetry_validate import NAME_RE, Reading

RULE_FIELDS = {"twin", "name", "op", "threshold", "hysteresis", "severity", "enabled"}


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _raises(rule: AlarmRule, value: float) -> bool:
    return value > rule.threshold if rule.op == AlarmRule.Op.GT else value < rule.threshold


def _clears(rule: AlarmRule, value: float) -> bool:
    if rule.op == AlarmRule.Op.GT:
        return value <= rule.threshold - rule.hysteresis
    return value >= rule.threshold + rule.hysteresis


def alarms_evaluate(*, factory_id: int, twins_by_id: dict[int, Twin], readings: list[Reading]) -> list[Alarm]:
    """Raise and clear alarms for the readings (in timestamp order); call inside the ingest transaction."""
    rules = list(AlarmRule.objects.filter(twin_id__in=list(twins_by_id), enabled=True))
    if not rules:
        return []
    by_series = defaultdict(list)
    for rule in rules:
        by_series[(rule.twin_id, rule.name)].append(rule)
    active = {a.rule_id: a for a in Alarm.objects.filter(rule__in=rules, active=True)}
    changed = []
    relevant = sorted((r for r in readings if r.value is not None and (r.twin_id, r.name) in by_series), key=lambda r: r.ts)
    for r in relevant:
        for rule in by_series[(r.twin_id, r.name)]:
            alarm = active.get(rule.id)
            if alarm is None and _raises(rule, r.value):
                twin = twins_by_id[r.twin_id]
                alarm = Alarm.objects.create(
                    rule=rule, twin=twin, severity=rule.severity, value=r.value, raised_at=r.ts, active=True,
                    message=f"{twin.name}: {rule.name} {_fmt(r.value)} {rule.op} {_fmt(rule.threshold)}",
                )
                active[rule.id] = alarm
                changed.append(alarm)
            elif alarm is not None and _clears(rule, r.value):
                alarm.active = False
                alarm.cleared_at = r.ts
                alarm.save(update_fields=["active", "cleared_at"])
                del active[rule.id]
                changed.append(alarm)
    for alarm in changed:
        publish_alarm(alarm, twin_key=twins_by_id[alarm.twin_id].key, factory_id=factory_id)
    return changed


def publish_alarm(alarm: Alarm, *, twin_key: str, factory_id: int) -> None:
    events.publish_to_factory(factory_id, {"type": "alarm", "alarm": alarm_repr(alarm, twin_key=twin_key)})


def drift_alarm_raise(*, layout, twin: Twin, at, value: float, message: str) -> Alarm:
    """A `drift` alarm on a layout whose output left its plan (twins.services.plan_vs_actual decides when);
    `twin` is the sink twin the output is counted at. Acknowledged and listed like every other alarm."""
    alarm = Alarm.objects.create(kind=Alarm.Kind.DRIFT, layout=layout, twin=twin, severity=AlarmRule.Severity.WARNING,
                                 value=value, raised_at=at, active=True, message=message[:255])
    publish_alarm(alarm, twin_key=twin.key, factory_id=layout.factory_id)
    return alarm


def drift_alarm_clear(*, alarm: Alarm, at) -> Alarm:
    alarm.active = False
    alarm.cleared_at = at
    alarm.save(update_fields=["active", "cleared_at"])
    publish_alarm(alarm, twin_key=alarm.twin.key, factory_id=alarm.layout.factory_id)
    return alarm


def alarm_ack(*, alarm: Alarm, by) -> Alarm:
    """Record who acknowledged the alarm and when (engineers and up); acking twice keeps the first."""
    factory_id = alarm.twin.factory_id
    require_role(user=by, factory_id=factory_id, at_least=Role.ENGINEER, action="acknowledge alarms")
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update(of=("self",)).select_related("twin", "acked_by").get(pk=alarm.pk)
        if alarm.acked_at is None:
            alarm.acked_by = by
            alarm.acked_at = timezone.now()
            alarm.save(update_fields=["acked_by", "acked_at"])
            audit_append(factory_id=factory_id, actor=by, action="alarm.ack", object_type="alarm", object_id=alarm.id,
                         data={"message": alarm.message})
            publish_alarm(alarm, twin_key=alarm.twin.key, factory_id=factory_id)
    return alarm


def _rule_changes(*, factory_id: int, data: dict, partial: bool) -> dict:
    unknown = set(data) - RULE_FIELDS - {"id", "factory"}
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.", errors={f: ["Unknown field."] for f in unknown})
    missing = {"twin", "name", "op", "threshold"} - set(data)
    if missing and not partial:
        raise Invalid(f"{', '.join(sorted(missing))} required.", errors={f: ["This field is required."] for f in missing})
    changes = {}
    if "twin" in data:
        twin_id = data["twin"]
        twin = None
        if isinstance(twin_id, int) and not isinstance(twin_id, bool):
            twin = Twin.objects.filter(pk=twin_id, factory_id=factory_id).first()
        if twin is None:
            raise Invalid("twin must be a twin of this factory.", errors={"twin": ["No such twin in this factory."]})
        changes["twin"] = twin
    if "name" in data:
        if not isinstance(data["name"], str) or not NAME_RE.match(data["name"]):
            raise Invalid("name must be a telemetry value name.", errors={"name": ["1-64 letters, digits or _ . : / -."]})
        changes["name"] = data["name"]
    if "op" in data:
        if data["op"] not in AlarmRule.Op.values:
            raise Invalid('op must be ">" or "<".', errors={"op": ['Must be ">" or "<".']})
        changes["op"] = data["op"]
    if "threshold" in data:
        changes["threshold"] = finite_number(data["threshold"], field="threshold")
    if "hysteresis" in data:
        changes["hysteresis"] = finite_number(data["hysteresis"], field="hysteresis", minimum=0)
    if "severity" in data:
        if data["severity"] not in AlarmRule.Severity.values:
            raise Invalid(f"severity must be one of {', '.join(AlarmRule.Severity.values)}.", errors={"severity": ["Unknown severity."]})
        changes["severity"] = data["severity"]
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise Invalid("enabled must be true or false.", errors={"enabled": ["Must be a boolean."]})
        changes["enabled"] = data["enabled"]
    return changes


def _require_owner(*, by, factory_id: int) -> None:
    require_role(user=by, factory_id=factory_id, at_least=Role.OWNER, action="manage alarm rules")


def alarm_rule_create(*, factory, data: dict, by) -> AlarmRule:
    _require_owner(by=by, factory_id=factory.id)
    changes = _rule_changes(factory_id=factory.id, data=data, partial=False)
    with transaction.atomic():
        rule = AlarmRule.objects.create(factory=factory, **changes)
        audit_append(factory_id=factory.id, actor=by, action="alarm_rule.create", object_type="alarm_rule", object_id=rule.id, data=alarm_rule_repr(rule))
    return rule


def alarm_rule_update(*, rule: AlarmRule, changes: dict, by) -> AlarmRule:
    _require_owner(by=by, factory_id=rule.factory_id)
    fields = _rule_changes(factory_id=rule.factory_id, data=changes, partial=True)
    if "factory" in changes and changes["factory"] != rule.factory_id:
        raise Forbidden("A rule cannot move to another factory.")
    with transaction.atomic():
        for name, value in fields.items():
            setattr(rule, name, value)
        rule.save()
        audit_append(factory_id=rule.factory_id, actor=by, action="alarm_rule.update", object_type="alarm_rule", object_id=rule.id, data=alarm_rule_repr(rule))
    return rule


def alarm_rule_delete(*, rule: AlarmRule, by) -> None:
    _require_owner(by=by, factory_id=rule.factory_id)
    with transaction.atomic():
        data = alarm_rule_repr(rule)
        rule.delete()
        audit_append(factory_id=data["factory"], actor=by, action="alarm_rule.delete", object_type="alarm_rule", object_id=data["id"], data=data)
