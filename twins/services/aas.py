"""Importing an Asset Administration Shell environment into a factory (CONTRACT §10): Instance shells become
twins, Type shells catalogue asset types, through `twin_create` and `asset_type_save` (their checks, audit
and broadcasts), all or nothing. Idempotent: a twin whose key exists is kept as it is, an asset type whose
fields already match is left alone, so importing the same file twice changes nothing the second time."""
from django.db import transaction

from ..errors import Invalid, ServiceError
from ..interfaces.aas import read_environment, shells_of
from ..models import AssetType, Factory, Role, Twin
from ..representations import asset_type_repr
from .catalogue import asset_type_save
from .common import require_role
from .twins import twin_create

MAX_BYTES = 20_000_000


def factory_aas_import(*, factory: Factory, text: str, by) -> dict:
    """`{"twins": {"created", "existing"}, "asset_types": {"created", "updated", "unchanged"}}` (keys and names).
    Owners only; creating or changing a catalogue type also needs staff, as every catalogue change does."""
    require_role(user=by, factory_id=factory.id, at_least=Role.OWNER, action="import an Asset Administration Shell environment")
    if len(text) > MAX_BYTES:
        raise Invalid(f"The environment is {len(text) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB.", errors={"file": ["Too large."]})
    try:
        shells = shells_of(read_environment(text))
    except ValueError as exc:
        raise Invalid(f"This is not an AAS V3.0 environment the platform can read: {exc}", errors={"file": [str(exc)]}) from None
    if not shells:
        raise Invalid("The environment has no shell of assetKind Instance or Type: nothing to import.", errors={"file": ["No shells."]})
    result = {"twins": {"created": [], "existing": []}, "asset_types": {"created": [], "updated": [], "unchanged": []}}
    with transaction.atomic():
        for shell in (s for s in shells if s.kind == "asset_type"):
            _in_shell(shell, lambda shell=shell: _import_type(shell, by=by, result=result["asset_types"]))
        for shell in (s for s in shells if s.kind == "twin"):
            if Twin.objects.filter(factory=factory, key=shell.key).exists():
                result["twins"]["existing"].append(shell.key)
                continue
            _in_shell(shell, lambda shell=shell: twin_create(factory=factory, key=shell.key, name=shell.name[:120], by=by))
            result["twins"]["created"].append(shell.key)
    return result


def _import_type(shell, *, by, result: dict) -> None:
    existing = AssetType.objects.filter(name=shell.key).first()
    if existing is None:
        asset_type_save(by=by, data={"name": shell.key, **shell.data})
        result["created"].append(shell.key)
        return
    current = asset_type_repr(existing)
    changes = {k: v for k, v in shell.data.items() if current.get(k) != v}
    if not changes:
        result["unchanged"].append(shell.key)
        return
    asset_type_save(by=by, asset_type=existing, data=changes)
    result["updated"].append(shell.key)


def _in_shell(shell, action) -> None:
    """Run a service for one shell; its error names the shell, so that a long file's culprit can be found."""
    try:
        action()
    except ServiceError as exc:
        raise type(exc)(f"Shell '{shell.shell_id}': {exc.message}", errors=exc.errors, current=exc.current) from None
