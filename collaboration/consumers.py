"""Layout room consumer (the realtime issue replaces this minimal version)."""
from channels.generic.websocket import AsyncWebsocketConsumer


class LayoutConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.close(code=4404)
