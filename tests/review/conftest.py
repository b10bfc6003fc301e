"""Helpers of the review tests: listen to a layout's room on the real Redis channel layer."""
import asyncio
import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


class RoomListener:
    def __init__(self, layout_id: int):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(f"layout.{layout_id}", self.channel)

    def next_event(self, timeout: float = 5.0) -> dict:
        async def receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        message = async_to_sync(receive)()
        return {"_message_type": message["type"], **json.loads(message["text"])}


@pytest.fixture
def room():
    return RoomListener
