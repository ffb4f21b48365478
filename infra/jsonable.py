"""One conversion of Python values to what JSON can hold: used wherever the project writes JSON
(the event log's rows, MLflow dicts and params, ``model_training_logs``, CLI summaries)."""

from __future__ import annotations

import dataclasses
import math
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` with containers made dicts and lists and scalars made JSON-native: dates as ISO
    text, UUIDs and paths as text, decimals and numpy scalars as numbers, NaN and infinities as
    ``None`` (JSON has neither, and PostgreSQL's JSON refuses them)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: no isinstance chain
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Path):
        return str(value)
    if isinstance(value, Decimal):
        value = float(value)
    elif hasattr(value, "item") and callable(value.item):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
