from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from sprechzimmer import inputs  # noqa: F401  (registers the <id:…> path converter)
from sprechzimmer.status.consumers import StatusConsumer
from sprechzimmer.video import consumers


class UnknownPath(AsyncWebsocketConsumer):
    """Any other websocket path: the handshake is refused (HTTP 403), nothing raises."""

    async def connect(self):
        await self.close()


websocket_urlpatterns = [
    path("ws/sprechstunde/<str:token>/", consumers.PatientConsumer.as_asgi()),
    path("ws/raum/<id:appointment_id>/", consumers.DoctorConsumer.as_asgi()),
    path("ws/praxis/", consumers.PracticeConsumer.as_asgi()),
    path("ws/status/", StatusConsumer.as_asgi()),  # the status check (status/checks.py)
    re_path(r"", UnknownPath.as_asgi()),  # last: without it the router raises for an unknown path
]
