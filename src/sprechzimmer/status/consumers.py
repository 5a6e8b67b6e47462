"""/ws/status/: the status check's websocket. It answers "ok" through the channel layer (a message
to itself), so a reply proves the ASGI server and the layer (Redis in production) both work."""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer


class StatusConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()
        await self.channel_layer.send(self.channel_name, {"type": "status.echo"})

    async def status_echo(self, event):
        await self.send(text_data="ok")
        await self.close()

    async def receive(self, text_data=None, bytes_data=None):
        await self.close()
