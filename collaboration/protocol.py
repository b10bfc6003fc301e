"""The websocket protocol of CONTRACT.md §5 as typed messages: one discriminated union per direction.

Every frame the room sends is built from these models (`encode`), except two hot paths that are
pre-encoded for speed and checked against these models in the tests: `poses` (pieces joined per
recipient, see `pose_piece`) and `applied` (encoded once by `collaboration.events`).
"""
import json
import math
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator

MAX_FRAME_BYTES = 64 * 1024
MAX_CHAT_CHARS = 2000
COORD_LIMIT = 1e6

OpId = Union[Annotated[str, StringConstraints(max_length=64)], Annotated[int, Field(ge=-(2**53), le=2**53)]]
ObjectId = Annotated[int, Field(ge=1, le=2**62)]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def _finite(values: list[float], size: int) -> list[float]:
    if len(values) != size or not all(math.isfinite(v) and -COORD_LIMIT < v < COORD_LIMIT for v in values):
        raise ValueError(f"expected {size} finite numbers within ±{COORD_LIMIT:g}")
    return values


# --- client → server ------------------------------------------------------------------------------------
class Pose(Message):
    type: Literal["pose"]
    p: list[float]
    q: list[float]

    @field_validator("p")
    @classmethod
    def _p(cls, v):
        return _finite(v, 3)

    @field_validator("q")
    @classmethod
    def _q(cls, v):
        return _finite(v, 4)


class _Op(Message):
    type: Literal["op"]
    id: OpId


class AssetUpdateOp(_Op):
    kind: Literal["asset.update"]
    asset: ObjectId
    version: int
    changes: dict[str, Any]


class AssetCreateOp(_Op):
    kind: Literal["asset.create"]
    data: dict[str, Any]


class AssetDeleteOp(_Op):
    kind: Literal["asset.delete"]
    asset: ObjectId
    version: int


class ConnectionCreateOp(_Op):
    kind: Literal["connection.create"]
    data: dict[str, Any]


class ConnectionDeleteOp(_Op):
    kind: Literal["connection.delete"]
    connection: ObjectId


Op = Annotated[Union[AssetUpdateOp, AssetCreateOp, AssetDeleteOp, ConnectionCreateOp, ConnectionDeleteOp], Field(discriminator="kind")]


class Lock(Message):
    type: Literal["lock"]
    asset: ObjectId


class Unlock(Message):
    type: Literal["unlock"]
    asset: ObjectId


class ChatIn(Message):
    type: Literal["chat"]
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CHAT_CHARS)]


class Summon(Message):
    """A manager or owner brings everyone in the room to their view: the camera's position and what it looks at."""

    type: Literal["summon"]
    position: list[float]
    target: list[float]

    @field_validator("position", "target")
    @classmethod
    def _point(cls, v):
        return _finite(v, 3)


class Resync(Message):
    type: Literal["resync"]
    seq: Annotated[int, Field(ge=0, le=2**62)]


class Ping(Message):
    type: Literal["ping"]


ClientMessage = Annotated[Union[Pose, Op, Lock, Unlock, ChatIn, Summon, Resync, Ping], Field(discriminator="type")]
client_message = TypeAdapter(ClientMessage)
CLIENT_TYPES = frozenset({"pose", "op", "lock", "unlock", "chat", "summon", "resync", "ping"})


# --- server → client ------------------------------------------------------------------------------------
class Member(Message):
    id: int
    username: str
    color: str
    role: str


class Welcome(Message):
    type: Literal["welcome"] = "welcome"
    you: Member
    members: list[Member]
    seq: int
    locks: dict[str, int]


class Presence(Message):
    type: Literal["presence"] = "presence"
    members: list[Member]


class PoseState(Message):
    p: list[float]
    q: list[float]


class Poses(Message):
    type: Literal["poses"] = "poses"
    poses: dict[str, PoseState]


class Applied(Message):
    type: Literal["applied"] = "applied"
    seq: int
    id: OpId | None
    by: int | None
    kind: str
    object: dict[str, Any]


class Rejected(Message):
    type: Literal["rejected"] = "rejected"
    id: OpId
    code: Literal["conflict", "forbidden", "invalid", "locked", "not_found"]
    message: str
    current: dict[str, Any] | None = None


class Locks(Message):
    type: Literal["locks"] = "locks"
    locks: dict[str, int]


class ChatFrom(Message):
    id: int
    username: str
    color: str


class ChatOut(Message):
    """`from` is the sender ({id, username, color}); `ts` is epoch milliseconds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["chat"] = "chat"
    from_: ChatFrom = Field(alias="from")
    text: str
    ts: int


class SummonOut(Message):
    """`from` asks everyone in the room to fly to `position`, looking at `target`; `ts` is epoch milliseconds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type: Literal["summon"] = "summon"
    from_: ChatFrom = Field(alias="from")
    position: list[float]
    target: list[float]
    ts: int


class Snapshot(Message):
    model_config = ConfigDict(extra="allow")
    type: Literal["snapshot"] = "snapshot"
    layout: dict[str, Any]
    asset_types: list[dict[str, Any]]
    assets: list[dict[str, Any]]
    connections: list[dict[str, Any]]
    seq: int


class Error(Message):
    type: Literal["error"] = "error"
    code: str
    message: str


class Pong(Message):
    type: Literal["pong"] = "pong"


class TwinUpdate(Message):
    model_config = ConfigDict(extra="allow")
    twin: int
    key: str
    status: str
    values: dict[str, Any]
    ts: Any


class TwinChanged(Message):
    type: Literal["twin.changed"] = "twin.changed"
    updates: list[TwinUpdate]


class AlarmOut(Message):
    type: Literal["alarm"] = "alarm"
    alarm: dict[str, Any]


class SimProgress(Message):
    type: Literal["sim.progress"] = "sim.progress"
    id: int
    status: str
    progress: float


ServerMessage = Annotated[
    Union[Welcome, Presence, Poses, Applied, Rejected, Locks, ChatOut, Snapshot, Error, Pong, TwinChanged, AlarmOut, SimProgress],
    Field(discriminator="type"),
]
server_message = TypeAdapter(ServerMessage)


def encode(message: Message) -> str:
    return message.model_dump_json(by_alias=True)


def _no_constant(name):
    raise ValueError(f"{name} is not valid JSON")


_decoder = json.JSONDecoder(parse_constant=_no_constant)


class LoneSurrogate(ValueError):
    """`"\\ud800"` is JSON, but the string it gives is not text: it can be neither stored (PostgreSQL refuses
    it) nor encoded into the frames that would carry it to the others."""


def _lone_surrogate(data) -> bool:
    todo = [data]
    while todo:
        item = todo.pop()
        if type(item) is str:
            try:
                item.encode()
            except UnicodeEncodeError:
                return True
        elif type(item) is dict:
            todo.extend(item)
            todo.extend(item.values())
        elif type(item) is list:
            todo.extend(item)
    return False


def decode_json(text: str):
    """A client frame: JSON without NaN or Infinity, and without a lone UTF-16 surrogate in any string
    (only a `\\u` escape can spell one: the frame itself is valid UTF-8, so other frames skip the walk)."""
    data = _decoder.decode(text)
    if "\\u" in text and _lone_surrogate(data):
        raise LoneSurrogate("Strings must be valid Unicode: a lone UTF-16 surrogate (\\ud800-\\udfff) is not.")
    return data


def pose_piece(user_id: int, p: list, q: list) -> str:
    """One entry of a `poses` frame, `"<user_id>":{"p":[...],"q":[...]}`, encoded once per tick."""
    return '"%d":{"p":[%r,%r,%r],"q":[%r,%r,%r,%r]}' % (user_id, *p, *q)


def poses_frame(pieces: str) -> str:
    return '{"type":"poses","poses":{' + pieces + "}}"


def check_pose(data: dict) -> tuple[list, list] | None:
    """The hot path's equivalent of `Pose` validation: (p, q) or None when the frame is not a valid pose."""
    if len(data) != 3:
        return None
    p = data.get("p")
    q = data.get("q")
    if type(p) is not list or type(q) is not list or len(p) != 3 or len(q) != 4:
        return None
    for v in p:
        if (type(v) is not float and type(v) is not int) or not -COORD_LIMIT < v < COORD_LIMIT:
            return None
    for v in q:
        if (type(v) is not float and type(v) is not int) or not -COORD_LIMIT < v < COORD_LIMIT:
            return None
    return p, q
