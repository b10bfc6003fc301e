"""Validation of asset `params` (CONTRACT.md §3 and §7): known keys, numbers with units and sensible ranges,
part-type tables, and references to the layout's operator pools."""
from ..errors import Invalid
from ..models import Asset
from .common import finite_number

MAX_SECONDS = 10 * 365 * 24 * 3600
MAX_METRES = 10_000.0
MAX_TYPE_NAME = 64
MAX_TYPES = 50

# name -> (minimum, maximum, allow_none, integer, strictly_positive)
NUMBER_SPECS = {
    "cycle_time_s": (0.0, MAX_SECONDS, False, False, True),
    "cycle_cv": (0.0, 100.0, False, False, False),
    "mtbf_s": (0.0, MAX_SECONDS, True, False, True),
    "mttr_s": (0.0, MAX_SECONDS, True, False, True),
    "capacity": (1, 10_000, False, True, False),
    "interarrival_s": (0.0, MAX_SECONDS, True, False, True),
    "interarrival_cv": (0.0, 100.0, False, False, False),
    # §7: setups, scrap, accumulating conveyors.
    "setup_time_s": (0.0, MAX_SECONDS, False, False, False),
    "setup_cv": (0.0, 100.0, False, False, False),
    "scrap_rate": (0.0, 1.0, False, False, False),
    "length_m": (0.0, MAX_METRES, False, False, True),
    "speed_mps": (0.0, 1000.0, False, False, True),
    "spacing_m": (0.0, MAX_METRES, False, False, True),
    # §11: free space around the footprint (layout checks), overriding the asset type's clearance_m.
    "clearance_m": (0.0, 100.0, False, False, False),
}
# §7 params that are not one number: {TYPE: number} tables, a type name, operator-pool references.
TYPE_TABLES = {"mix": ("weight", 1e6), "cycle_time_by_type": ("seconds", MAX_SECONDS)}
TYPE_NAMES = {"output_type"}
OPERATOR_REFS = {"operator", "repair_operator"}
KNOWN = (*NUMBER_SPECS, *TYPE_TABLES, *TYPE_NAMES, *OPERATOR_REFS)


def _bad(key: str, message: str) -> Invalid:
    return Invalid(f"params.{key}: {message}", errors={"params": [f"{key}: {message}"]})


def clean_type_name(value, *, where: str) -> str:
    """A part type's name: what `mix`, `cycle_time_by_type`, `output_type` and connection `part_types` share."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TYPE_NAME:
        raise Invalid(f"{where}: a part type is a non-empty name of at most {MAX_TYPE_NAME} characters (got {value!r:.80}).",
                      errors={where.partition(".")[0]: [f"{where}: part type names are 1–{MAX_TYPE_NAME} characters."]})
    return value


def _type_table(key: str, value) -> dict:
    what, maximum = TYPE_TABLES[key]
    if not isinstance(value, dict):
        raise _bad(key, f"must be an object {{TYPE: {what}}}.")
    if key == "mix" and not value:
        raise _bad(key, "needs at least one part type (or leave it out: every part is of type 'part').")
    if len(value) > MAX_TYPES:
        raise _bad(key, f"at most {MAX_TYPES} part types (got {len(value)}).")
    table = {}
    for name, number in value.items():
        clean_type_name(name, where=f"params.{key}")
        table[name] = finite_number(number, field=f"params.{key}.{name}", minimum=0.0, maximum=maximum)
        if table[name] <= 0:
            raise _bad(key, f"the {what} of '{name}' must be greater than 0.")
    return table


def _operator_ref(key: str, value, *, layout):
    """The id of an `operator` asset of the same layout (null: no operator needed)."""
    if value is None:
        return None
    if layout is None:
        raise _bad(key, "names an operator asset of one layout, so it is set on the asset, not as a type default.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key, "must be the id of an operator asset in this layout (or null).")
    operator = Asset.objects.filter(pk=value, layout=layout).select_related("asset_type").first()
    if operator is None:
        raise _bad(key, f"asset {value} is not in this layout.")
    if operator.asset_type.kind != "operator":
        raise _bad(key, f"asset {value} ('{operator.name}') is a {operator.asset_type.kind}, not an operator pool.")
    return value


def clean_params(params, *, layout=None) -> dict:
    """Checked params. `layout` is the layout (or its id) of the asset they belong to (None for a catalogue
    type's defaults): `operator` and `repair_operator` must name one of its operator assets."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise Invalid("params must be an object.", errors={"params": ["Must be an object."]})
    cleaned = {}
    for key, value in params.items():
        if key in NUMBER_SPECS:
            minimum, maximum, allow_none, integer, positive = NUMBER_SPECS[key]
            number = finite_number(value, field=f"params.{key}", minimum=minimum, maximum=maximum, allow_none=allow_none, integer=integer)
            if positive and number is not None and number <= 0:
                raise Invalid(f"params.{key} must be greater than 0.", errors={"params": [f"{key} must be > 0."]})
            if key == "scrap_rate" and number >= 1:
                raise _bad(key, "must be below 1 (a fraction in [0, 1): 1 would scrap every part).")
            cleaned[key] = number
        elif key in TYPE_TABLES:
            cleaned[key] = _type_table(key, value)
        elif key in TYPE_NAMES:
            cleaned[key] = clean_type_name(value, where=f"params.{key}")
        elif key in OPERATOR_REFS:
            cleaned[key] = _operator_ref(key, value, layout=layout)
        else:
            raise Invalid(f"Unknown parameter '{key}'. Known: {', '.join(KNOWN)}.", errors={"params": [f"Unknown parameter '{key}'."]})
    if cleaned.get("mtbf_s") is not None and "mttr_s" in cleaned and cleaned["mttr_s"] is None:
        raise Invalid("params.mttr_s is required when mtbf_s is set.", errors={"params": ["mttr_s is required with mtbf_s."]})
    if cleaned.get("length_m") and cleaned.get("spacing_m") and cleaned["spacing_m"] > cleaned["length_m"]:
        raise _bad("spacing_m", f"{cleaned['spacing_m']:g} m is longer than the conveyor ({cleaned['length_m']:g} m): no part would fit on it.")
    return cleaned
