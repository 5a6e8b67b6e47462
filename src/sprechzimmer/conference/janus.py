"""Django's side of Janus: the VideoRoom requests the server makes (create and destroy a room,
add and remove a participant's room token, kick), over Janus's HTTP API on loopback. Media never
pass through here; browsers talk to Janus themselves with the tokens ``access`` hands out.

Every request carries a Janus token Django signs for itself (a minute's validity), room creation
the VideoRoom ``admin_key`` and room changes the room's own secret, all derived from JANUS_SECRET
(``janusconf``). Plain ``urllib``: a handful of synchronous JSON POSTs need no HTTP library.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sprechzimmer.conference import janusconf


class JanusError(Exception):
    """Janus is unreachable or refused a request; ``code`` is Janus's error code when it answered."""

    def __init__(self, reason: str, code: int | None = None):
        super().__init__(reason)
        self.code = code


#: VideoRoom error codes (janus_videoroom.c) the callers tell apart.
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
NO_SUCH_FEED = 428
UNAUTHORIZED = 433


@dataclass
class Janus:
    url: str
    secret: str
    timeout: float = 5.0

    def _post(self, path: str, body: dict) -> dict:
        body = body | {
            "transaction": secrets.token_hex(8),
            "token": janusconf.signed_token(self.secret, int(time.time()) + 60),
        }
        request = urllib.request.Request(
            self.url.rstrip("/") + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise JanusError(f"Janus not reachable: {exc}") from exc
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(str(error.get("reason")), error.get("code"))
        return answer

    @contextmanager
    def videoroom(self) -> Iterator[VideoRoom]:
        """A Janus session with the VideoRoom plugin attached, destroyed afterwards."""
        session = self._post("", {"janus": "create"})["data"]["id"]
        try:
            handle = self._post(f"/{session}", {"janus": "attach", "plugin": janusconf.PLUGIN_PACKAGE})["data"]["id"]
            yield VideoRoom(self, f"/{session}/{handle}")
        finally:
            with suppress(JanusError):  # else the session times out on its own
                self._post(f"/{session}", {"janus": "destroy"})


@dataclass
class VideoRoom:
    janus: Janus
    path: str

    def request(self, body: dict) -> dict:
        """A synchronous VideoRoom request; its answer, or JanusError with the plugin's code."""
        answer = self.janus._post(self.path, {"janus": "message", "body": body})
        data = (answer.get("plugindata") or {}).get("data") or {}
        if data.get("videoroom") == "event" and "error_code" in data:
            raise JanusError(str(data.get("error")), data.get("error_code"))
        return data

    def _room(self, room: str) -> dict:
        return {"room": room, "secret": janusconf.room_secret(self.janus.secret, room)}

    def create(self, room: str, *, publishers: int, tokens: list[str]) -> None:
        self.request(
            {
                "request": "create",
                "admin_key": janusconf.room_admin_key(self.janus.secret),
                "room": room,
                "secret": janusconf.room_secret(self.janus.secret, room),
                "description": "Sprechzimmer",
                "is_private": True,
                "require_pvtid": True,
                "publishers": publishers,
                "allowed": tokens,
                "permanent": False,
                "audiolevel_event": True,
                # Frames are encrypted in the browser (docs/e2ee.md): Janus is told so and leaves
                # the payload alone (no keyframe or simulcast parsing of it), and records nothing.
                "require_e2ee": True,
                "record": False,
                "lock_record": True,
            }
        )

    def exists(self, room: str) -> bool:
        return bool(self.request({"request": "exists", "room": room}).get("exists"))

    def allow(self, room: str, tokens: list[str]) -> None:
        self.request({"request": "allowed", "action": "add", "allowed": tokens} | self._room(room))

    def disallow(self, room: str, tokens: list[str]) -> None:
        self.request({"request": "allowed", "action": "remove", "allowed": tokens} | self._room(room))

    def participants(self, room: str) -> list[str]:
        data = self.request({"request": "listparticipants", "room": room})
        return [str(p.get("id")) for p in data.get("participants") or []]

    def kick(self, room: str, participant: str) -> None:
        try:
            self.request({"request": "kick", "id": participant} | self._room(room))
        except JanusError as exc:
            if exc.code != NO_SUCH_FEED:  # not (or no longer) in the room
                raise

    def destroy(self, room: str) -> None:
        try:
            self.request({"request": "destroy"} | self._room(room))
        except JanusError as exc:
            if exc.code != NO_SUCH_ROOM:
                raise
