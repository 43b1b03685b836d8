"""JSON that every parser reads: a metric with nothing to score (NaN) or an infinity is written
as null, since NaN and Infinity are not JSON (RFC 8259) and strict parsers (JavaScript's
JSON.parse, serde, Go) reject them. Readers that want numbers map null back to NaN."""

from __future__ import annotations

import json
import math
import numbers
from typing import Any


def finite_or_null(obj: Any) -> Any:
    """`obj` with every non-finite float replaced by None and numpy scalars/arrays made plain."""
    if isinstance(obj, dict):
        return {k: finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_null(v) for v in obj]
    if hasattr(obj, "tolist"):              # numpy / torch scalars and arrays
        return finite_or_null(obj.tolist())
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        x = float(obj)
        return x if math.isfinite(x) else None
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """json.dumps of `finite_or_null(obj)`; raises rather than ever writing NaN."""
    return json.dumps(finite_or_null(obj), allow_nan=False, **kwargs)
