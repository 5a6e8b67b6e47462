"""Receiving an applicant's files without trusting their size (issue 11, item 3).

Django's parser writes each uploaded file to a temporary file and only afterwards does a view see
it. This handler counts the bytes while they arrive: a file larger than DUTY_DOCUMENT_MAX_BYTES, or
beyond the request's budget of files and bytes, is dropped at once (``SkipFile``: the rest of that
file is read and thrown away, the other form fields still arrive), and the reason is kept for the
view, which tells the applicant and stores nothing. The request body as a whole is capped earlier by
REQUEST_MAX_BYTES (sprechzimmer/bodylimit.py) and by the proxy.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler

from sprechzimmer.duty.documents import megabytes


class ApplicationUploadHandler(TemporaryFileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.files = 0
        self.total = 0
        self.current = 0
        request.upload_refusals = self.refusals = []

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.files += 1
        self.current = 0
        if self.files > settings.DUTY_UPLOAD_FILES_PER_REQUEST:
            self._refuse(f"Bitte laden Sie höchstens {settings.DUTY_UPLOAD_FILES_PER_REQUEST} Dateien auf einmal hoch.")

    def receive_data_chunk(self, raw_data, start):
        self.current += len(raw_data)
        self.total += len(raw_data)
        if self.current > settings.DUTY_DOCUMENT_MAX_BYTES:
            self._refuse(f"„{self.file_name}“ ist größer als {megabytes(settings.DUTY_DOCUMENT_MAX_BYTES)}.")
        if self.total > settings.DUTY_APPLICATION_MAX_BYTES:
            self._refuse(f"Die Dateien sind zusammen größer als {megabytes(settings.DUTY_APPLICATION_MAX_BYTES)}.")
        return super().receive_data_chunk(raw_data, start)

    def _refuse(self, message: str):
        if message not in self.refusals:
            self.refusals.append(message)
        self.upload_interrupted()
        raise SkipFile
