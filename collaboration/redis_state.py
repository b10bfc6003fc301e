"""Room state that every daphne process must see: the per-layout event log and soft locks, kept in Redis."""
from functools import lru_cache

import redis
from django.conf import settings



def lock_ttl_s() -> float:
    """How long a soft lock outlives its holder's last activity in the room (settings.ROOM_LOCK_TTL_S)."""
    return settings.ROOM_LOCK_TTL_S


@lru_cache(maxsize=1)
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


def _prefix() -> str:
    return settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")


def event_log_key(layout_id: int) -> str:
    return f"{_prefix()}:mv:events:{layout_id}"


def event_log_append(layout_id: int, seq: int, text: str, keep: int) -> None:
    key = event_log_key(layout_id)
    pipe = client().pipeline()
    pipe.zadd(key, {text: seq})
    pipe.zremrangebyrank(key, 0, -keep - 1)
    pipe.expire(key, 7 * 24 * 3600)
    pipe.execute()


def event_log_since(layout_id: int, seq: int) -> tuple[list[str], int | None]:
    """Events with seq > `seq` in order, and the oldest seq still held (None if the log is empty)."""
    key = event_log_key(layout_id)
    oldest = client().zrange(key, 0, 0, withscores=True)
    events = client().zrangebyscore(key, f"({seq}", "+inf")
    return [e.decode() for e in events], (int(oldest[0][1]) if oldest else None)


def lock_key(asset_id: int) -> str:
    return f"{_prefix()}:mv:lock:{asset_id}"


def lock_holder(asset_id: int) -> int | None:
    value = client().get(lock_key(asset_id))
    return int(value) if value else None

