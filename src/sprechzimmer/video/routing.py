from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from sprechzimmer import inputs  # noqa: F401  (registers the <id:…> path converter)
from sprechzimmer.metrics import counted_websockets
from sprechzimmer.status.consumers import StatusConsumer
from sprechzimmer.video import consumers


class UnknownPath(AsyncWebsocketConsumer):
    """Any other websocket path: the handshake is refused (HTTP 403), nothing raises."""

    async def connect(self):
        await self.close()


# Each route's open websockets are counted by kind (sprechzimmer/metrics.py).
websocket_urlpatterns = [
    path("ws/sprechstunde/<str:token>/", counted_websockets("patient", consumers.PatientConsumer.as_asgi())),
    path("ws/raum/<id:appointment_id>/", counted_websockets("doctor", consumers.DoctorConsumer.as_asgi())),
    path("ws/praxis/", counted_websockets("practice", consumers.PracticeConsumer.as_asgi())),
    # the status check (status/checks.py)
    path("ws/status/", counted_websockets("status", StatusConsumer.as_asgi())),
    re_path(r"", UnknownPath.as_asgi()),  # last: without it the router raises for an unknown path
]
