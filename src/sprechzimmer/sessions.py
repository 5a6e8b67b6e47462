"""Django's database sessions, read with SQL built once (``sprechzimmer.prepared``): every request
of a logged-in user reads its session first, and building the ORM's query was most of that read's
time. Same table, same rows, same answers as ``django.contrib.sessions.backends.db``."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from sprechzimmer.prepared import ByKey

_SESSION = ByKey(lambda: Session.objects.all())


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        session = _SESSION.get(self.session_key)
        if session is None or session.expire_date <= timezone.now():  # expired: as if there were none
            self._session_key = None
            return None
        return session
