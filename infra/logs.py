"""Structured logging for every entry point: console lines or JSON, with personal data redacted.

Names, birthdays and card numbers must never reach a log (issue: protect personal data), so a
filter masks those keys in structured ``extra`` fields and card-number-shaped digits in messages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from infra import pii

PII_KEYS = frozenset({"name", "birthday", "card_number", "card", "phone"})
_STANDARD = set(vars(logging.makeLogRecord({})))
#: what a request carried, as pydantic and BentoML print it in validation errors and tracebacks
_INPUT_VALUE = re.compile(r"(input_value=)(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\{.*?\}(?=, input_type)|\S+)", re.S)
_REQUEST_BODY = re.compile(r"((?:body|text|json)[\"']?\s*[:=]\s*)(b?[\"'])(?:(?!\2).){0,4000}\2", re.S)


def redact_text(message: str) -> str:
    """A log line without personal data: no request input, no card/phone/resident numbers, no dates."""
    message = _INPUT_VALUE.sub(r"\1<redacted>", message)
    message = _REQUEST_BODY.sub(r"\1<redacted>", message)
    return pii.redact_text(message)


class RedactPII(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:  # merge first: a redacted placeholder must not meet its argument
            try:
                record.msg, record.args = record.getMessage(), None
            except Exception:
                pass
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        elif record.msg is not None and not isinstance(record.msg, (int, float)):
            record.msg = redact_text(str(record.msg))
        if record.exc_info and not record.exc_text:  # tracebacks carry request values in their messages
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        for key in PII_KEYS & (set(vars(record)) - _STANDARD):
            setattr(record, key, "***")
        return True


def install_redaction() -> None:
    """Put the filter on every handler already configured (BentoML's, uvicorn's) and on the root."""
    f = RedactPII()
    loggers = [logging.getLogger()] + [l for l in logging.root.manager.loggerDict.values() if isinstance(l, logging.Logger)]
    for lg in loggers:
        for h in lg.handlers:
            if not any(isinstance(x, RedactPII) for x in h.filters):
                h.addFilter(f)


def _as_tuple(args: object) -> tuple:
    return args if isinstance(args, tuple) else (args,)


# --- request context: every line of one turn carries its request_id, hashed session_id, event_id ---
_CONTEXT: ContextVar[dict[str, str]] = ContextVar("naviyam_log_context", default={})


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Fields added to every record logged inside the block (this thread or task only)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def bind(**fields: object) -> None:
    """Add fields to the current block's context (an id learnt half-way, like the turn's event_id)."""
    _CONTEXT.set({**_CONTEXT.get(), **{k: str(v) for k, v in fields.items() if v is not None}})


def hash_id(value: str) -> str:
    """A stable pseudonym for an id in logs: keyed, so it cannot be reversed by hashing guesses."""
    from infra.settings import get_settings

    key = get_settings().card_hash_key.get_secret_value().encode()
    return hmac.new(key, b"log-id:" + value.encode(), hashlib.sha256).hexdigest()[:16]


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CONTEXT.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            payload["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        line = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + (record.exc_text or self.formatException(record.exc_info))
        return line


#: libraries whose INFO lines a person at the terminal does not need (their runs keep them: Dagster's
#: event log, MLflow's UI); a handler filter, because some of them reset their loggers' levels on import
CHATTY_LIBRARIES = ("great_expectations", "dagster", "feast", "mlflow", "alembic", "urllib3", "httpx", "pgserver",
                    "filelock", "lightning", "pytorch_lightning", "lightning_fabric")
#: warnings that are advice to library authors, repeated on every model logged
LIBRARY_ADVICE = (
    # MLflow on integer columns in an inferred signature: the ranker's inputs never miss values
    "Hint: Inferred schema contains integer column",
    # MLflow on a pyfunc whose predict has no type hints: the signature is given explicitly
    "Add type hints to the `predict` method",
    # MLflow on cloudpickling a python_model object: these are the project's own classes
    "Passing a Python object as `python_model`",
)


class QuietLibraries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return not any(a in record.getMessage() for a in LIBRARY_ADVICE)
        return not record.name.startswith(CHATTY_LIBRARIES)


def quiet_library_handlers(name: str = "mlflow") -> None:
    """Put the advice filter on a library's own handlers (MLflow installs one at import). A filter
    on the library's logger misses what its child loggers (``mlflow.pyfunc``) emit; a handler sees it."""
    for handler in logging.getLogger(name).handlers:
        if not any(isinstance(f, QuietLibraries) for f in handler.filters):
            handler.addFilter(QuietLibraries())


def configure_logging(level: str = "INFO", as_json: bool = False) -> None:
    import os
    import warnings

    for advice in LIBRARY_ADVICE:
        warnings.filterwarnings("ignore", message=".*" + re.escape(advice))
    # MLflow installs its own handler at import, at this level; read before the first import
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    quiet_library_handlers("mlflow")  # if MLflow is imported already; configure_mlflow does it later
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else ConsoleFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactPII())
    handler.addFilter(QuietLibraries())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    install_redaction()
    # feast logs "Registry cache expired, so refreshing" at INFO on every registry read: hundreds per demo
    # Lightning announces "GPU available: False" and tips on every fit
    # (not Dagster's or MLflow's: their loggers carry what their own UIs record)
    for noisy in set(CHATTY_LIBRARIES) - {"dagster", "mlflow"}:
        logging.getLogger(noisy).setLevel(logging.WARNING)
