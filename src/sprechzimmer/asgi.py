"""ASGI entry point: HTTP through Django, websockets through Channels (docs/signalling.md)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprechzimmer.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from sprechzimmer import autobahnlog  # noqa: E402
from sprechzimmer.bodylimit import BodyLimit, install_daphne_limit  # noqa: E402
from sprechzimmer.logsafety import AccessLog  # noqa: E402
from sprechzimmer.video.routing import websocket_urlpatterns  # noqa: E402
from sprechzimmer.wsorigin import SameOriginValidator  # noqa: E402

install_daphne_limit()
autobahnlog.install()

# Run Daphne without --access-log: AccessLog writes one line per request with secrets in paths
# redacted (sprechzimmer/logsafety.py).
application = AccessLog(
    ProtocolTypeRouter(
        {
            "http": BodyLimit(django_asgi_app),
            # the members' routes add the session and the user themselves (video/routing.py)
            "websocket": SameOriginValidator(URLRouter(websocket_urlpatterns)),
        }
    )
)
