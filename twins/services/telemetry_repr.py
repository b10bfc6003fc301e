"""The one JSON shape of twins, alarm rules and alarms: REST responses and websocket events share it."""
from ..models import Alarm, AlarmRule, Twin


def iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def twin_repr(twin: Twin) -> dict:
    return {
        "id": twin.id,
        "factory": twin.factory_id,
        "key": twin.key,
        "name": twin.name,
        "status": twin.status,
        "values": twin.values,
        "updated_at": iso(twin.updated_at),
    }


def twin_update_repr(twin: Twin) -> dict:
    """One entry of a `twin.changed` frame (CONTRACT.md §5)."""
    return {"twin": twin.id, "key": twin.key, "status": twin.status, "values": twin.values, "ts": iso(twin.updated_at)}


def alarm_rule_repr(rule: AlarmRule) -> dict:
    return {
        "id": rule.id,
        "factory": rule.factory_id,
        "twin": rule.twin_id,
        "name": rule.name,
        "op": rule.op,
        "threshold": rule.threshold,
        "hysteresis": rule.hysteresis,
        "severity": rule.severity,
        "enabled": rule.enabled,
    }


def alarm_repr(alarm: Alarm, *, twin_key: str | None = None) -> dict:
    return {
        "id": alarm.id,
        "twin": alarm.twin_id,
        "key": twin_key if twin_key is not None else alarm.twin.key,
        "rule": alarm.rule_id,
        "kind": alarm.kind,
        "layout": alarm.layout_id,
        "severity": alarm.severity,
        "message": alarm.message,
        "value": alarm.value,
        "active": alarm.active,
        "raised_at": iso(alarm.raised_at),
        "cleared_at": iso(alarm.cleared_at),
        "acked_by": alarm.acked_by.username if alarm.acked_by_id else None,
        "acked_at": iso(alarm.acked_at),
    }
