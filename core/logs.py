"""Log lines an operator can search: JSON when LOG_FORMAT=json, a request id on every line of a
request, and no secret in any line (docs/operations.md, "Logs")."""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy is kept only when it is short and plain, so it cannot forge log lines.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# Names whose values are secrets, wherever they appear: query strings, form dumps, dicts, headers.
_SECRET_NAMES = (
    r"[\w-]*(?:pin|passw(?:or)?d|passcode|token|secret|api[_-]?key|authorization|cookie|sessionid"
    r"|csrf[\w-]*|otp|signature)[\w-]*|code|key|sig"
)
_NAME_VALUE = re.compile(
    rf"(?i)(?<![\w-])({_SECRET_NAMES})(['\"]?\s*[:=]\s*[\[(]?\s*(?:[bu](?=['\"]))?['\"]?)"
    r"(?:(bearer|basic|token|digest)\s+)?([^\s'\"&,;)\]}]+)"
)
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic|digest)\s+[A-Za-z0-9._~+/=-]{6,}")
SCRUBBED = "[scrubbed]"


def scrub(text: str) -> str:
    """`text` with the value of every secret-looking name=value or "name": value replaced."""
    text = _NAME_VALUE.sub(lambda m: f"{m[1]}{m[2]}{m[3] + ' ' if m[3] else ''}{SCRUBBED}", text)
    return _SCHEME_CREDENTIAL.sub(lambda m: f"{m[1]} {SCRUBBED}", text)


# Attributes every LogRecord has; anything else was passed in `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class ScrubFilter(logging.Filter):
    """On every handler: formats the message, scrubs it, and scrubs the traceback too."""

    def filter(self, record):
        message = record.getMessage()
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, scrub(value))
        return True


class RequestIdFilter(logging.Filter):
    """Adds the current request's id (or "-") to every record."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, traceback."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request":
                line[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The same fields as the JSON lines, for a person reading a terminal."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


access_logger = logging.getLogger("voucher.request")


class RequestLogMiddleware:
    """First in the chain: takes X-Request-ID from the proxy or makes one, echoes it in the
    response, and writes one access line per request (method, path, status, duration)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        asked = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = asked if _VALID_REQUEST_ID.fullmatch(asked) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            query = request.META.get("QUERY_STRING", "")
            access_logger.info(
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path + (f"?{query}" if query else ""),
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


_SECRET_KEY_NAME = re.compile(rf"(?i)^(?:{_SECRET_NAMES})$")


def scrub_data(value):
    """A copy of nested dicts/lists/strings with secret-named keys and secret-looking text scrubbed:
    what Sentry receives (before_send), since a request's body and headers may carry a PIN."""
    if isinstance(value, dict):
        return {
            k: SCRUBBED
            if isinstance(k, str) and _SECRET_KEY_NAME.match(k) and v not in (None, "")
            else scrub_data(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_data(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def sentry_before_send(event, hint):
    return scrub_data(event)
