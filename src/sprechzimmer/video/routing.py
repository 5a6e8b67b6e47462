from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from sprechzimmer import inputs  # noqa: F401  (registers the <id:…> path converter)
from sprechzimmer.conference import consumers as conference
from sprechzimmer.metrics import counted_websockets
from sprechzimmer.status.consumers import StatusConsumer
from sprechzimmer.video import consumers


class UnknownPath(AsyncWebsocketConsumer):
    """Any other websocket path: the handshake is refused (HTTP 403), nothing raises."""

    async def connect(self):
        await self.close()


# Each route's open websockets are counted by kind (sprechzimmer/metrics.py). Only the members'
# routes read the session and the user (AuthMiddlewareStack): the patient's token is all a patient
# has, and loading an empty session and an anonymous user costs every patient's socket a turn on
# Channels' one database thread before it is accepted — in a reconnect storm that queue outlasted
# Daphne's handshake timeout and patients got 502 (bench/reconnect_storm.py).
websocket_urlpatterns = [
    path("ws/sprechstunde/<str:token>/", counted_websockets("patient", consumers.PatientConsumer.as_asgi())),
    path(
        "ws/raum/<id:appointment_id>/",
        counted_websockets("doctor", AuthMiddlewareStack(consumers.DoctorConsumer.as_asgi())),
    ),
    # the direct call of the doctor and one guest when two are left of a conference (issue 18)
    path("ws/konferenz/<str:token>/", counted_websockets("pair", conference.GuestPairConsumer.as_asgi())),
    path(
        "ws/raum/<id:appointment_id>/konferenz/<id:participant_id>/",
        counted_websockets("pair", AuthMiddlewareStack(conference.DoctorPairConsumer.as_asgi())),
    ),
    path("ws/praxis/", counted_websockets("practice", AuthMiddlewareStack(consumers.PracticeConsumer.as_asgi()))),
    # the status check (status/checks.py)
    path("ws/status/", counted_websockets("status", StatusConsumer.as_asgi())),
    re_path(r"", UnknownPath.as_asgi()),  # last: without it the router raises for an unknown path
]
