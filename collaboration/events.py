"""The one broadcast path: every accepted change, from any interface, reaches the layout's room from here.

Events are published after the transaction commits, appended to a bounded per-layout log in Redis (for
`resync`) and sent to the layout's channel-layer group.
"""
import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from . import redis_state

log = logging.getLogger(__name__)

EVENT_LOG_LENGTH = 1000


def layout_group(layout_id: int) -> str:
    return f"layout.{layout_id}"


def factory_group(factory_id: int) -> str:
    return f"factory.{factory_id}"


def _send(group: str, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception:  # Redis away: the write already committed; clients resync on reconnect.
        log.warning("broadcast to %s failed", group, exc_info=True)


def publish_applied(*, layout_id: int, seq: int, op_id, by, kind: str, obj: dict) -> None:
    """Schedule the `applied` event of a change; call inside the service's transaction."""
    event = {"type": "applied", "seq": seq, "id": op_id, "by": by, "kind": kind, "object": obj}

    def send():
        text = json.dumps(event, separators=(",", ":"))
        try:
            redis_state.event_log_append(layout_id, seq, text, EVENT_LOG_LENGTH)
        except Exception:
            log.warning("event log append failed for layout %s", layout_id, exc_info=True)
        _send(layout_group(layout_id), {"type": "room.applied", "seq": seq, "text": text})

    transaction.on_commit(send)


def publish_to_layout(layout_id: int, payload: dict) -> None:
    """A non-sequenced server event (sim.progress, comment, ...) to everyone in one layout's room, after commit."""
    transaction.on_commit(lambda: _send(layout_group(layout_id), {"type": "room.event", "text": json.dumps(payload, separators=(",", ":"))}))


def publish_to_factory(factory_id: int, payload: dict) -> None:
    """A server event to every room of a factory (twin.changed, alarm), after commit."""
    transaction.on_commit(lambda: _send(factory_group(factory_id), {"type": "room.event", "text": json.dumps(payload, separators=(",", ":"))}))


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_access_revoked(*, user_id: int, factory_id: int | None = None) -> None:
    """Tell every process to close this user's sockets (logout, or membership lost in `factory_id`)."""
    transaction.on_commit(lambda: _send(user_group(user_id), {"type": "user.revoked", "user": user_id, "factory": factory_id}))
