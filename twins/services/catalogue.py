"""The asset catalogue and its 3D models (glTF / GLB files, checked before anything is stored)."""
import hashlib
import json
import re
import struct

import pygltflib
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from ..errors import Forbidden, Invalid
from ..models import AssetType, Layout
from ..representations import asset_type_repr
from .common import finite_number, lock_layout, record_change
from .model_optimize import optimize_model
from .params import clean_params

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
GLB_MAGIC = b"glTF"


def _check_staff(by):
    if not getattr(by, "is_staff", False):
        raise Forbidden("Only staff can change the asset catalogue.")


def asset_type_save(*, by, asset_type: AssetType | None = None, data: dict) -> AssetType:
    """Create or change a catalogue type (staff). A change of what the simulation reads of a type (its kind,
    its default parameters) is a change to every layout that uses it: each records `asset_type.update`, so
    its room hears it and its simulations go stale."""
    _check_staff(by)
    asset_type = asset_type or AssetType()
    before = (asset_type.kind, asset_type.defaults) if asset_type.pk else None
    if "name" in data or asset_type.pk is None:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 80:
            raise Invalid("name must be 1–80 characters.", errors={"name": ["1–80 characters."]})
        if AssetType.objects.filter(name=name.strip()).exclude(pk=asset_type.pk).exists():
            raise Invalid(f"An asset type named '{name}' already exists.", errors={"name": ["Already taken."]})
        asset_type.name = name.strip()
    if "kind" in data or asset_type.pk is None:
        if data.get("kind") not in AssetType.Kind.values:
            raise Invalid(f"kind must be one of {', '.join(AssetType.Kind.values)}.", errors={"kind": ["Invalid kind."]})
        asset_type.kind = data["kind"]
    for field in ("width_m", "depth_m", "height_m"):
        if field in data:
            setattr(asset_type, field, finite_number(data[field], field=field, minimum=0.05, maximum=1000))
    if "clearance_m" in data:
        asset_type.clearance_m = finite_number(data["clearance_m"], field="clearance_m", minimum=0.0, maximum=100)
    if "color" in data:
        if not isinstance(data["color"], str) or not COLOR.match(data["color"]):
            raise Invalid("color must look like #RRGGBB.", errors={"color": ["Must look like #RRGGBB."]})
        asset_type.color = data["color"].lower()
    if "defaults" in data:
        asset_type.defaults = clean_params(data["defaults"])
    with transaction.atomic():
        asset_type.save()
        if before is not None and (asset_type.kind, asset_type.defaults) != before:
            _layouts_using_changed(asset_type, by=by)
    return asset_type


def _layouts_using_changed(asset_type: AssetType, *, by) -> None:
    obj = asset_type_repr(asset_type)
    for layout_id in Layout.objects.filter(assets__asset_type=asset_type).values_list("id", flat=True).distinct().order_by("id"):
        record_change(layout=lock_layout(layout_id), by=by, kind="asset_type.update", obj=obj)


def validate_model_file(content: bytes, filename: str) -> None:
    """Accept a GLB, or a self-contained .gltf (embedded buffers); reject anything else with a reason."""
    limit = settings.MODEL_UPLOAD_MAX_BYTES
    if len(content) > limit:
        raise Invalid(f"The model is {len(content) / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB.", errors={"model_file": ["Too large."]})
    lower = filename.lower()
    if lower.endswith(".glb"):
        if content[:4] != GLB_MAGIC or len(content) < 20:
            raise Invalid("This is not a GLB file (the binary glTF header is missing).", errors={"model_file": ["Not a GLB file."]})
        version, length = struct.unpack_from("<II", content, 4)
        if version != 2 or length != len(content):
            raise Invalid("The GLB header is inconsistent (glTF 2.0 expected; declared length must match the file).", errors={"model_file": ["Bad GLB header."]})
        try:
            gltf = pygltflib.GLTF2.load_from_bytes(content)
        except Exception as exc:
            raise Invalid(f"The GLB could not be parsed: {exc}", errors={"model_file": ["Unparseable GLB."]}) from None
    elif lower.endswith(".gltf"):
        try:
            doc = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise Invalid("This .gltf is not valid JSON.", errors={"model_file": ["Not JSON."]}) from None
        asset = doc.get("asset") if isinstance(doc, dict) else None
        if not isinstance(asset, dict) or str(asset.get("version", "")).split(".")[0] != "2":
            raise Invalid("This is not a glTF 2.0 document.", errors={"model_file": ["Not glTF 2.0."]})
        buffers = doc.get("buffers", [])
        if not isinstance(buffers, list) or not all(isinstance(b, dict) for b in buffers):
            raise Invalid("This glTF's buffers are not a list of objects.", errors={"model_file": ["Bad buffers."]})
        for buffer in buffers:
            if not str(buffer.get("uri", "")).startswith("data:"):
                raise Invalid("A .gltf must embed its buffers (data: URIs); upload a .glb instead.", errors={"model_file": ["External buffers."]})
        try:
            gltf = pygltflib.GLTF2.from_json(content.decode("utf-8"))
        except Exception as exc:
            raise Invalid(f"The glTF could not be parsed: {exc}", errors={"model_file": ["Unparseable glTF."]}) from None
    else:
        raise Invalid("Upload a .glb or .gltf file.", errors={"model_file": ["Wrong file type."]})
    if not gltf.meshes:
        raise Invalid("The model contains no meshes.", errors={"model_file": ["No meshes."]})


def asset_type_set_model(*, asset_type: AssetType, content: bytes, filename: str, by) -> AssetType:
    """Check the upload, optimise it (model_optimize: meshopt geometry, resized textures, a far level of
    detail) and store it, the upload itself kept as it came. Each name carries a digest of the upload, so a
    new model is a new URL: browsers and the catalogue's thumbnails cache by URL."""
    _check_staff(by)
    validate_model_file(content, filename)
    optimised = optimize_model(content, filename)
    safe_name = re.sub(r"[^A-Za-z0-9_.-]", "_", filename)[-80:]
    stem = f"{asset_type.pk}-{hashlib.sha256(content).hexdigest()[:10]}"
    base = safe_name.rsplit(".", 1)[0]
    with transaction.atomic():
        for stored in (asset_type.model_file, asset_type.model_far_file, asset_type.model_original):
            if stored:
                stored.delete(save=False)
        asset_type.model_original.save(f"{stem}-{safe_name}", ContentFile(content), save=False)
        if optimised.near is None:
            asset_type.model_file.save(f"{stem}-{safe_name}", ContentFile(content), save=False)
        else:
            asset_type.model_file.save(f"{stem}-{base}.glb", ContentFile(optimised.near), save=False)
            asset_type.model_far_file.save(f"{stem}-{base}.far.glb", ContentFile(optimised.far), save=False)
        asset_type.model_stats = optimised.stats
        asset_type.save(update_fields=["model_file", "model_far_file", "model_original", "model_stats"])
    return asset_type
