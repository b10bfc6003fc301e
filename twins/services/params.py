"""Validation of asset `params` (CONTRACT.md §3): known keys, numbers with units and sensible ranges."""
from ..errors import Invalid
from .common import finite_number

# name -> (minimum, allow_none, integer, strictly_positive)
PARAM_SPECS = {
    "cycle_time_s": (0.0, False, False, True),
    "cycle_cv": (0.0, False, False, False),
    "mtbf_s": (0.0, True, False, True),
    "mttr_s": (0.0, True, False, True),
    "capacity": (1, False, True, False),
    "interarrival_s": (0.0, True, False, True),
    "interarrival_cv": (0.0, False, False, False),
}
MAX_SECONDS = 10 * 365 * 24 * 3600


def clean_params(params) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise Invalid("params must be an object.", errors={"params": ["Must be an object."]})
    cleaned = {}
    for key, value in params.items():
        if key not in PARAM_SPECS:
            raise Invalid(f"Unknown parameter '{key}'. Known: {', '.join(PARAM_SPECS)}.", errors={"params": [f"Unknown parameter '{key}'."]})
        minimum, allow_none, integer, positive = PARAM_SPECS[key]
        maximum = 10_000 if key == "capacity" else (100.0 if key.endswith("_cv") else MAX_SECONDS)
        number = finite_number(value, field=f"params.{key}", minimum=minimum, maximum=maximum, allow_none=allow_none, integer=integer)
        if positive and number is not None and number <= 0:
            raise Invalid(f"params.{key} must be greater than 0.", errors={"params": [f"{key} must be > 0."]})
        cleaned[key] = number
    if (cleaned.get("mtbf_s") is None) != (cleaned.get("mttr_s") is None) and ("mtbf_s" in cleaned or "mttr_s" in cleaned):
        if cleaned.get("mtbf_s") is not None and "mttr_s" in cleaned and cleaned["mttr_s"] is None:
            raise Invalid("params.mttr_s is required when mtbf_s is set.", errors={"params": ["mttr_s is required with mtbf_s."]})
    return cleaned
