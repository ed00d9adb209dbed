"""Strict JSON of numbers that may not be finite: JSON has no NaN or Infinity, so every producer of JSON
(the live page's events, the checker's --json report) says what stands in for them, in one place.

    json_safe({"loss": float("nan")})              -> {"loss": None}       (the page reads null as 'none')
    json_safe({"loss": float("inf")}, instead=str) -> {"loss": "inf"}      (the checker names the value)
"""
import json
import math


def json_safe(value, instead=None):
    """value with every non-finite float replaced, inside dicts, lists and tuples (tuples become lists):
    by instead(x) when instead is callable (str gives 'nan', 'inf', '-inf'), else by instead itself."""
    if isinstance(value, float):
        return value if math.isfinite(value) else instead(value) if callable(instead) else instead
    if isinstance(value, dict):
        return {k: json_safe(v, instead) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, instead) for v in value]
    return value


def dumps(value, instead=None, **options):
    """json.dumps of json_safe(value, instead), refusing anything that is still not strict JSON."""
    return json.dumps(json_safe(value, instead), allow_nan=False, **options)
