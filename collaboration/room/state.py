"""Async access to the room state that every process shares in Redis: presence, socket counts, locks and
the event log (the keys are the ones `collaboration.redis_state` uses from synchronous code)."""
import asyncio
import json
import time

import redis.asyncio as aioredis
from django.conf import settings

from .. import redis_state

PRESENCE_TTL_S = 30
HEARTBEAT_S = 10

_clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}


def client() -> aioredis.Redis:
    """One client per event loop (tests run one loop per test; daphne one per process)."""
    loop = asyncio.get_running_loop()
    c = _clients.get(loop)
    if c is None:
        for old in [k for k in _clients if k.is_closed()]:
            del _clients[old]
        c = _clients[loop] = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=3)
    return c


def _p() -> str:
    return redis_state._prefix()


def presence_key(layout_id: int) -> str:
    return f"{_p()}:mv:presence:{layout_id}"


def sockets_key(user_id: int) -> str:
    return f"{_p()}:mv:sockets:{user_id}"


def lockset_key(layout_id: int) -> str:
    return f"{_p()}:mv:locks:{layout_id}"


# --- sockets per user -----------------------------------------------------------------------------------
async def socket_open(user_id: int, conn_id: str, limit: int) -> bool:
    """Count this socket against the user's limit (all processes); False when the user has too many."""
    key, now = sockets_key(user_id), time.time()
    pipe = client().pipeline()
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.zcard(key)
    _, count = await pipe.execute()
    if count >= limit:
        return False
    pipe = client().pipeline()
    pipe.zadd(key, {conn_id: now + PRESENCE_TTL_S})
    pipe.expire(key, PRESENCE_TTL_S * 2)
    await pipe.execute()
    return True


async def socket_close(user_id: int, conn_id: str) -> None:
    await client().zrem(sockets_key(user_id), conn_id)


# --- presence -------------------------------------------------------------------------------------------
async def presence_set(layout_id: int, entries: dict[str, dict], user_sockets: dict[int, list[str]] | None = None) -> None:
    """Write (or refresh) this process's sockets in a room with a fresh expiry."""
    if not entries:
        return
    exp = time.time() + PRESENCE_TTL_S
    pipe = client().pipeline()
    pipe.hset(presence_key(layout_id), mapping={k: json.dumps({**v, "exp": exp}) for k, v in entries.items()})
    pipe.expire(presence_key(layout_id), PRESENCE_TTL_S * 4)
    for user_id, conn_ids in (user_sockets or {}).items():
        pipe.zadd(sockets_key(user_id), {c: exp for c in conn_ids})
        pipe.expire(sockets_key(user_id), PRESENCE_TTL_S * 2)
    await pipe.execute()


async def presence_remove(layout_id: int, conn_id: str) -> None:
    await client().hdel(presence_key(layout_id), conn_id)


async def presence_read(layout_id: int) -> tuple[list[dict], set[str], bool]:
    """(members sorted by id, process ids present, whether expired entries were pruned)."""
    raw = await client().hgetall(presence_key(layout_id))
    now = time.time()
    members, procs, dead = {}, set(), []
    for field, value in raw.items():
        entry = json.loads(value)
        if entry.get("exp", 0) < now:
            dead.append(field)
            continue
        procs.add(entry.pop("proc", ""))
        entry.pop("exp", None)
        members[entry["id"]] = entry
    if dead:
        await client().hdel(presence_key(layout_id), *dead)
    return [members[k] for k in sorted(members)], procs, bool(dead)


# --- locks ----------------------------------------------------------------------------------------------
def _ttl_ms(idle_s: float = 0.0) -> int:
    return int((redis_state.lock_ttl_s() - idle_s) * 1000)


async def lock_acquire(layout_id: int, asset_id: int, user_id: int) -> bool:
    key = redis_state.lock_key(asset_id)
    c = client()
    if not await c.set(key, user_id, nx=True, px=_ttl_ms()):
        holder = await c.get(key)
        if holder is None or int(holder) != user_id:
            return False
        await c.pexpire(key, _ttl_ms())
    await c.sadd(lockset_key(layout_id), asset_id)
    return True


# Delete the lock only if this user still holds it (no race with someone taking it after expiry).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

# Extend a lock this user holds (1); take it again if it lapsed a moment ago and nobody else took it (2); 0: lost.
_KEEP = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2]); return 2 end
return 0
"""


async def lock_release(layout_id: int, asset_id: int, user_id: int) -> bool:
    released = await client().eval(_RELEASE, 1, redis_state.lock_key(asset_id), str(user_id))
    return bool(released)


async def locks_keep(layout_id: int, asset_ids, user_id: int, idle_s: float) -> set[int]:
    """Make this user's locks end `lock_ttl_s()` after their last activity, `idle_s` ago; the ids of those
    that someone else holds now (lost) are returned."""
    c, ttl_ms, lost = client(), _ttl_ms(idle_s), set()
    for asset_id in asset_ids:
        kept = await c.eval(_KEEP, 1, redis_state.lock_key(asset_id), str(user_id), ttl_ms)
        if not kept:
            lost.add(asset_id)
        elif kept == 2:  # taken again: back in the layout's index, which dropped it when it lapsed
            await c.sadd(lockset_key(layout_id), asset_id)
    return lost


async def locks_read(layout_id: int) -> dict[str, int]:
    """{asset_id: user_id} of the live locks in a layout (expired ones are dropped from the index)."""
    c = client()
    ids = sorted(int(a) for a in await c.smembers(lockset_key(layout_id)))
    if not ids:
        return {}
    holders = await c.mget([redis_state.lock_key(a) for a in ids])
    gone = [a for a, h in zip(ids, holders) if h is None]
    if gone:
        await c.srem(lockset_key(layout_id), *gone)
    return {str(a): int(h) for a, h in zip(ids, holders) if h is not None}


# --- event log ------------------------------------------------------------------------------------------
async def events_since(layout_id: int, seq: int) -> list[tuple[int, str]]:
    """[(seq, text)] with seq > `seq`, in order."""
    rows = await client().zrangebyscore(redis_state.event_log_key(layout_id), f"({seq}", "+inf", withscores=True)
    return [(int(score), text.decode()) for text, score in rows]
