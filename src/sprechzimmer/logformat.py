"""JSON log lines on request (``LOG_FORMAT=json``, docs/operations.md "Logs").

The standard library's ``json`` suffices for one object per line; python-json-logger would add a
dependency for the same five fields. The handler's ``redact_paths`` filter (sprechzimmer/logsafety.py)
runs before any formatter, so a line is redacted whichever format writes it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message and, where there is
    one, the exception with its traceback. Newlines inside a value are escaped, so a traceback stays
    on its record's line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
