from django.urls import path

from sprechzimmer.video import consumers

websocket_urlpatterns = [
    path("ws/sprechstunde/<str:token>/", consumers.PatientConsumer.as_asgi()),
    path("ws/raum/<int:appointment_id>/", consumers.DoctorConsumer.as_asgi()),
    path("ws/praxis/", consumers.PracticeConsumer.as_asgi()),
]
