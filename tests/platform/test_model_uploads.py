"""glTF/GLB uploads to the catalogue: checked before anything is stored (RELIABILITY.md Uploads)."""
import io
import json
import struct
import zipfile

import pygltflib
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.platform.cad_model import cad_machine_glb
from tests.platform.test_model_optimize import unreadable_glb
from twins.models import AssetType

pytestmark = pytest.mark.django_db


def cube_glb() -> bytes:
    """A one-triangle mesh as a real GLB, written with pygltflib."""
    positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    gltf = pygltflib.GLTF2(
        scenes=[pygltflib.Scene(nodes=[0])], nodes=[pygltflib.Node(mesh=0)],
        meshes=[pygltflib.Mesh(primitives=[pygltflib.Primitive(attributes=pygltflib.Attributes(POSITION=0))])],
        accessors=[pygltflib.Accessor(bufferView=0, componentType=pygltflib.FLOAT, count=3, type=pygltflib.VEC3, max=[1, 1, 0], min=[0, 0, 0])],
        bufferViews=[pygltflib.BufferView(buffer=0, byteLength=len(positions), target=pygltflib.ARRAY_BUFFER)],
        buffers=[pygltflib.Buffer(byteLength=len(positions))],
    )
    gltf.set_binary_blob(positions)
    return b"".join(gltf.save_to_bytes())


@pytest.fixture
def press(db):
    return AssetType.objects.create(name="Press", kind="machine")


def upload(client, asset_type, name, content):
    return client.post(f"/api/asset-types/{asset_type.id}/model/", {"model_file": SimpleUploadedFile(name, content)}, format="multipart")


def test_a_valid_glb_is_stored_and_served(people, client_for, press):
    response = upload(client_for(people["staff"]), press, "press.glb", cube_glb())
    assert response.status_code == 200, response.json()
    assert response.json()["model_url"].endswith(".glb")
    press.refresh_from_db()
    assert press.model_file.read()[:4] == b"glTF"


def test_an_embedded_gltf_is_accepted(people, client_for, press):
    glb = pygltflib.GLTF2.load_from_bytes(cube_glb())
    glb.convert_buffers(pygltflib.BufferFormat.DATAURI)
    content = glb.gltf_to_json().encode()
    assert upload(client_for(people["staff"]), press, "press.gltf", content).status_code == 200


@pytest.mark.parametrize("name,content,why", [
    ("press.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "Upload a .glb"),
    ("press.glb", b"PK\x03\x04" + b"0" * 100, "not a GLB"),
    ("press.glb", b"glTF" + struct.pack("<II", 2, 9999) + b"0" * 20, "inconsistent"),
    ("press.gltf", b"{not json", "not valid JSON"),
    ("press.gltf", json.dumps({"asset": {"version": "2.0"}, "buffers": [{"uri": "http://evil/x.bin", "byteLength": 4}]}).encode(), "embed"),
    # Found by the fuzzer (500s before): an asset that is not an object, buffers that are not objects, deep JSON.
    ("press.gltf", json.dumps({"asset": 1}).encode(), "not a glTF 2.0"),
    ("press.gltf", json.dumps({"asset": {"version": "2.0"}, "buffers": [1]}).encode(), "buffers"),
    ("press.gltf", b"[" * 5000 + b"]" * 5000, "not valid JSON"),
])
def test_bad_files_are_rejected_and_nothing_is_stored(people, client_for, press, name, content, why):
    response = upload(client_for(people["staff"]), press, name, content)
    assert response.status_code == 400
    assert why in response.json()["detail"]
    press.refresh_from_db()
    assert not press.model_file


def test_a_zip_bomb_renamed_to_glb_is_rejected(people, client_for, press):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.bin", b"\0" * 20_000_000)
    response = upload(client_for(people["staff"]), press, "bomb.glb", buffer.getvalue())
    assert response.status_code == 400
    press.refresh_from_db()
    assert not press.model_file


def test_oversize_files_are_rejected(people, client_for, press, settings):
    settings.MODEL_UPLOAD_MAX_BYTES = 1000
    response = upload(client_for(people["staff"]), press, "press.glb", cube_glb() + b"\0" * 2000)
    assert response.status_code == 400
    assert "larger" in response.json()["detail"] or "limit" in response.json()["detail"]


def test_only_staff_may_upload(people, client_for, press):
    assert upload(client_for(people["olivia"]), press, "press.glb", cube_glb()).status_code == 403



@pytest.fixture
def admin_client(client, people):
    root = people["staff"]
    root.is_superuser = True
    root.save()
    client.force_login(root)
    return client


def admin_form(asset_type, **extra):
    fields = {"name": asset_type.name, "kind": asset_type.kind, "width_m": "1", "depth_m": "1", "clearance_m": "0", "height_m": "1", "color": "#8899aa", "defaults": "{}"}
    return {**fields, **extra}


def test_an_admin_upload_is_optimised_and_the_admin_shows_the_sizes_before_and_after(admin_client, press):
    content = cad_machine_glb(detail=4, texture_px=512)
    response = admin_client.post(f"/admin/twins/assettype/{press.id}/change/", admin_form(press, model_file=SimpleUploadedFile("press.glb", content)), follow=True)
    assert response.status_code == 200
    press.refresh_from_db()
    assert press.model_stats["optimised"] and press.model_far_file and press.model_original.read() == content
    assert 1e5 < len(content) < 1e6
    shown = f"{len(content) / 1e3:.0f} kB → {press.model_stats['near']['bytes'] / 1e3:.0f} kB"
    assert shown.encode() in admin_client.get("/admin/twins/assettype/").content
    assert shown.encode() in admin_client.get(f"/admin/twins/assettype/{press.id}/change/").content


def test_an_admin_upload_the_optimiser_cannot_read_is_a_message_and_nothing_is_stored(admin_client, press):
    response = admin_client.post(f"/admin/twins/assettype/{press.id}/change/", admin_form(press, model_file=SimpleUploadedFile("press.glb", unreadable_glb())), follow=True)
    assert response.status_code == 200
    assert b"Model not stored: The model could not be read" in response.content
    press.refresh_from_db()
    assert not press.model_file and not press.model_original
