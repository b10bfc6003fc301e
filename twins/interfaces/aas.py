"""A factory as an Asset Administration Shell environment (IEC 63278, AAS V3.0 JSON), built and read with the
Eclipse BaSyx Python SDK (CONTRACT §10).

One shell per twin (assetKind Instance) and per catalogue asset type (assetKind Type), each with three
submodels: a Nameplate (IDTA 02006, what the platform knows of it: its designation), a TechnicalData (IDTA
02003: an asset type's kind, footprint, colour and default params; a twin's bound asset type and the params
of its station in the factory's baseline layout) and an OperationalData submodel (a twin's status and latest
values). Identifiers derive from the twin key and the asset type name, not from the factory, so that
exporting a factory, importing the file into an empty one and exporting again gives the same shells; the
key and the name also travel as specificAssetIds (`twinKey`, `assetTypeName`), which the import reads first.
"""
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from basyx.aas import model
from basyx.aas.adapter import json as aas_json

from ..models import Asset, AssetType, Twin

PREFIX = "urn:metaverse:"
NAMEPLATE = "https://admin-shell.io/zvei/nameplate/2/0/Nameplate"
TECHNICAL_DATA = "https://admin-shell.io/ZVEI/TechnicalData/Submodel/1/2"
OPERATIONAL_DATA = f"{PREFIX}aas:submodel:OperationalData:1"
DESIGNATION = "0173-1#02-AAW338#001"  # ECLASS: manufacturer product designation
JSON_VALUE = f"{PREFIX}aas:json"  # a Property whose xs:string value is JSON (a param that is a table)
TWIN_KEY, TYPE_NAME = "twinKey", "assetTypeName"
TYPE_FIELDS = ("kind", "width_m", "depth_m", "height_m", "clearance_m", "color")
TOP_LEVEL = frozenset({"assetAdministrationShells", "submodels", "conceptDescriptions"})


def _ref(iri: str) -> model.ExternalReference:
    return model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, iri),))


def id_short(text: str, taken: set | None = None) -> str:
    """A valid idShort (AASd-002: a letter first, then letters, digits, _ or -, not ending in -), unique in `taken`."""
    short = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "x"
    if not short[0].isalpha():
        short = f"x_{short}"
    short = short[:120].rstrip("-") or "x"
    if taken is not None:
        base, n = short, 2
        while short in taken:
            short, n = f"{base}_{n}", n + 1
        taken.add(short)
    return short


def _value_element(short: str, value) -> model.Property:
    if isinstance(value, bool):
        return model.Property(short, value_type=model.datatypes.Boolean, value=value)
    if isinstance(value, int):
        return model.Property(short, value_type=model.datatypes.Long, value=value)
    if isinstance(value, float):
        return model.Property(short, value_type=model.datatypes.Double, value=value)
    if isinstance(value, str) or value is None:
        return model.Property(short, value_type=model.datatypes.String, value=value)
    return model.Property(short, value_type=model.datatypes.String, value=json.dumps(value, sort_keys=True), semantic_id=_ref(JSON_VALUE))


def _element_value(element):
    if not isinstance(element, model.Property):
        raise ValueError(f"'{element.id_short}' must be a Property")
    if element.semantic_id is not None and element.semantic_id.key[0].value == JSON_VALUE:
        try:
            return json.loads(element.value)
        except (TypeError, ValueError):
            raise ValueError(f"'{element.id_short}' is not JSON") from None
    value = element.value
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (float, Decimal)):
        return float(value)
    raise ValueError(f"'{element.id_short}' holds a {element.value_type.__name__}; a number, a string or a boolean is expected")


def _params(short: str, params: dict) -> model.SubmodelElementCollection:
    return model.SubmodelElementCollection(short, value=[_value_element(id_short(k), v) for k, v in sorted(params.items())])


def _designation(text: str) -> model.MultiLanguageProperty:
    return model.MultiLanguageProperty("ManufacturerProductDesignation", value=model.MultiLanguageTextType({"en": text[:1023] or "-"}),
                                       semantic_id=_ref(DESIGNATION))


def _shell(*, kind, slug: str, short: str, asset_id: tuple[str, str], designation: str, technical, operational) -> list:
    shell_id = f"{PREFIX}aas:{slug}"
    submodels = [
        model.Submodel(f"{shell_id}:nameplate", id_short="Nameplate", semantic_id=_ref(NAMEPLATE), submodel_element=[_designation(designation)]),
        model.Submodel(f"{shell_id}:technical-data", id_short="TechnicalData", semantic_id=_ref(TECHNICAL_DATA), submodel_element=technical),
    ]
    if operational is not None:
        submodels.append(model.Submodel(f"{shell_id}:operational-data", id_short="OperationalData", semantic_id=_ref(OPERATIONAL_DATA),
                                        submodel_element=operational))
    shell = model.AssetAdministrationShell(
        model.AssetInformation(kind, global_asset_id=f"{PREFIX}asset:{slug}", specific_asset_id=[model.SpecificAssetId(*asset_id)]),
        shell_id, id_short=short, submodel={model.ModelReference.from_referable(sm) for sm in submodels},
    )
    return [shell, *submodels]


def type_slug(name: str) -> str:
    return f"asset-type:{quote(name, safe='')}"


def asset_type_objects(asset_type) -> list:
    properties = [_value_element(f, getattr(asset_type, f)) for f in TYPE_FIELDS]
    technical = [model.SubmodelElementCollection("TechnicalProperties", value=properties), _params("Defaults", asset_type.defaults or {})]
    return _shell(kind=model.AssetKind.TYPE, slug=type_slug(asset_type.name), short=id_short(asset_type.name), asset_id=(TYPE_NAME, asset_type.name),
                  designation=asset_type.name, technical=technical, operational=None)


def twin_objects(twin, station=None) -> list:
    """A twin's shell and submodels; `station` is the asset bound to it in the factory's layout, if any."""
    technical = []
    if station is not None:
        type_shell = model.ModelReference((model.Key(model.KeyTypes.ASSET_ADMINISTRATION_SHELL, f"{PREFIX}aas:{type_slug(station.asset_type.name)}"),),
                                          model.AssetAdministrationShell)
        technical = [model.ReferenceElement("AssetType", value=type_shell),
                     _params("Params", {**(station.asset_type.defaults or {}), **(station.params or {})})]
    taken: set = set()
    values = []
    for name, value in sorted((twin.values or {}).items()):
        element = _value_element(id_short(name, taken), value)
        element.display_name = model.MultiLanguageNameType({"en": name[:128]})
        values.append(element)
    operational = [model.Property("status", value_type=model.datatypes.String, value=twin.status),
                   model.Property("updated_at", value_type=model.datatypes.DateTime, value=twin.updated_at),
                   model.SubmodelElementCollection("Values", value=values)]
    return _shell(kind=model.AssetKind.INSTANCE, slug=f"twin:{twin.key}", short=id_short(twin.key), asset_id=(TWIN_KEY, twin.key),
                  designation=twin.name, technical=technical, operational=operational)


def environment_json(objects: list) -> str:
    """The AAS V3.0 JSON of these shells and submodels, written by the SDK's serialiser. A shell holds its
    submodel references as a set: they are sorted so that the same factory always gives the same file."""
    document = json.loads(aas_json.object_store_to_json(model.DictIdentifiableStore(objects)))
    for shell in document.get("assetAdministrationShells", []):
        shell.get("submodels", []).sort(key=lambda ref: [k["value"] for k in ref["keys"]])
    return json.dumps(document, ensure_ascii=False)


def factory_environment(*, factory) -> str:
    """The factory's environment: the whole catalogue (asset types are shared by every factory), then its twins,
    each with the station bound to it in the baseline layout (else in the most recently changed layout)."""
    twins = list(Twin.objects.filter(factory=factory).order_by("key"))
    stations = {}
    assets = Asset.objects.filter(layout__factory=factory, twin_key__in=[t.key for t in twins]).select_related("asset_type", "layout")
    for asset in sorted(assets, key=lambda a: (a.layout_id != factory.baseline_layout_id, -a.layout.updated_at.timestamp(), a.id)):
        stations.setdefault(asset.twin_key, asset)
    objects = [o for asset_type in AssetType.objects.order_by("name") for o in asset_type_objects(asset_type)]
    objects += [o for twin in twins for o in twin_objects(twin, stations.get(twin.key))]
    return environment_json(objects)


def read_environment(text: str) -> model.DictIdentifiableStore:
    """An environment parsed by the SDK's strict deserialiser; ValueError says what is wrong with it."""
    try:
        top = json.loads(text)
    except RecursionError:
        raise ValueError("the file is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"the file is not JSON ({exc})") from None
    if not isinstance(top, dict) or not top.keys() & TOP_LEVEL or top.keys() - TOP_LEVEL:
        raise ValueError(f"an AAS environment is a JSON object with {', '.join(sorted(TOP_LEVEL))} (and nothing else)")
    for key in top.keys() & TOP_LEVEL:
        if not isinstance(top[key], list):
            raise ValueError(f"{key} must be a list")
    try:
        return aas_json.read_aas_json_file(io.StringIO(text), failsafe=False)
    except RecursionError:
        raise ValueError("the file is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - whatever the SDK's strict reader refuses, the file is what is wrong
        raise ValueError(str(exc).strip("\"'").split(" >>> ")[0][:400] or type(exc).__name__) from None


@dataclass
class ShellData:
    """What the import takes from one shell."""

    shell_id: str
    kind: str  # "twin" or "asset_type"
    key: str  # the twin key or the asset type name
    name: str
    data: dict = field(default_factory=dict)  # asset type fields for asset_type_save


def _submodel(store, shell, semantic: str, short: str):
    for ref in shell.submodel:
        try:
            submodel = ref.resolve(store)
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"shell '{shell.id}' refers to a submodel that is not in the file ({ref.key[-1].value})") from None
        semantic_id = submodel.semantic_id.key[0].value if submodel.semantic_id is not None else None
        if semantic_id == semantic or submodel.id_short == short:
            return submodel
    return None


def _element(container, short: str):
    items = container.submodel_element if isinstance(container, model.Submodel) else container.value
    return next((e for e in items if e.id_short == short), None)


def _name_of(store, shell) -> str | None:
    nameplate = _submodel(store, shell, NAMEPLATE, "Nameplate")
    designation = _element(nameplate, "ManufacturerProductDesignation") if nameplate is not None else None
    if isinstance(designation, model.MultiLanguageProperty) and designation.value:
        return designation.value.get("en") or next(iter(designation.value.values()))
    if shell.display_name:
        return shell.display_name.get("en") or next(iter(shell.display_name.values()))
    return None


def shells_of(store) -> list[ShellData]:
    """Every shell of a parsed environment as a twin or an asset type, in the file's order of ids."""
    found = []
    for shell in sorted((o for o in store if isinstance(o, model.AssetAdministrationShell)), key=lambda s: s.id):
        info = shell.asset_information
        specific = {a.name: a.value for a in info.specific_asset_id}
        if info.asset_kind == model.AssetKind.TYPE:
            name = specific.get(TYPE_NAME) or _name_of(store, shell) or shell.id_short
            found.append(ShellData(shell.id, "asset_type", name, name, _type_data(store, shell)))
        elif info.asset_kind == model.AssetKind.INSTANCE:
            key = specific.get(TWIN_KEY) or shell.id_short
            if not key:
                raise ValueError(f"shell '{shell.id}' has neither a {TWIN_KEY} specificAssetId nor an idShort to make a twin key of")
            found.append(ShellData(shell.id, "twin", key, _name_of(store, shell) or key))
    return found


def _type_data(store, shell) -> dict:
    technical = _submodel(store, shell, TECHNICAL_DATA, "TechnicalData")
    if technical is None:
        return {}
    data = {}
    try:
        properties = _element(technical, "TechnicalProperties")
        for f in TYPE_FIELDS:
            element = _element(properties, f) if isinstance(properties, model.SubmodelElementCollection) else None
            if element is not None:
                data[f] = _element_value(element)
        defaults = _element(technical, "Defaults")
        if isinstance(defaults, model.SubmodelElementCollection):
            data["defaults"] = {e.id_short: _element_value(e) for e in defaults.value}
    except ValueError as exc:
        raise ValueError(f"shell '{shell.id}' TechnicalData: {exc}") from None
    return data
