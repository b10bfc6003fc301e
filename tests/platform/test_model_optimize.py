"""Uploaded models are optimised by glTF-Transform (tools/model-optimizer): far fewer bytes, the same
bounding box, a simplified far level of detail, resized textures, and the upload kept as it came."""
import struct
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.platform.cad_model import bounds, cad_machine_glb, inspect, texture_sizes
from twins.models import AssetType

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def cad():
    """About 38k triangles in six parts with a 2048 px texture: 3.5 MB as trimesh writes it."""
    return cad_machine_glb(detail=5, texture_px=2048)


@pytest.fixture
def press(db):
    return AssetType.objects.create(name="Press", kind="machine")


def upload(client, asset_type, name, content):
    return client.post(f"/api/asset-types/{asset_type.id}/model/", {"model_file": SimpleUploadedFile(name, content)}, format="multipart")


def test_a_cad_model_is_served_small_with_a_far_level_and_its_original_kept(people, client_for, press, cad):
    response = upload(client_for(people["staff"]), press, "press.glb", cad)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model_url"].endswith(".glb") and body["model_far_url"].endswith(".far.glb")
    press.refresh_from_db()
    assert Path(press.model_original.path).read_bytes() == cad

    near, far = inspect(press.model_file.path), inspect(press.model_far_file.path)
    expected = bounds(cad)
    tolerance = 1e-3 * float(np.ptp(expected, axis=0).max())  # 16-bit quantised positions
    for level in (near, far):
        assert np.allclose(level["bounds"], expected, atol=tolerance), (level["bounds"], expected)
        assert level["meshes"] == 6
    assert near["bytes"] * 5 < len(cad)
    assert far["bytes"] * 5 < near["bytes"]
    assert near["triangles"] == press.model_stats["original"]["triangles"] > 30_000
    assert far["triangles"] * 10 < near["triangles"]
    assert texture_sizes(cad) == [(2048, 2048)]
    assert texture_sizes(Path(press.model_file.path).read_bytes()) == [(1024, 1024)]
    assert texture_sizes(Path(press.model_far_file.path).read_bytes()) == [(256, 256)]

    stats = press.model_stats
    assert stats["optimised"] is True
    assert (stats["original"]["bytes"], stats["near"]["bytes"], stats["far"]["bytes"]) == (len(cad), near["bytes"], far["bytes"])


def test_a_new_model_replaces_every_stored_file(people, client_for, press, cad):
    client = client_for(people["staff"])
    first = upload(client, press, "press.glb", cad).json()
    press.refresh_from_db()
    old = [Path(f.path) for f in (press.model_file, press.model_far_file, press.model_original)]
    second = upload(client, press, "press.glb", cad_machine_glb(detail=4, texture_px=64)).json()
    assert second["model_url"] != first["model_url"] and second["model_far_url"] != first["model_far_url"]
    assert not any(p.exists() for p in old)
    press.refresh_from_db()
    assert all(Path(f.path).exists() for f in (press.model_file, press.model_far_file, press.model_original))


def unreadable_glb() -> bytes:
    """A GLB that pygltflib parses but whose accessor points at a buffer view that does not exist."""
    positions = struct.pack("<9f", 0, 0, 0, 1, 0, 0, 0, 1, 0)
    gltf = pygltflib.GLTF2(
        scenes=[pygltflib.Scene(nodes=[0])], nodes=[pygltflib.Node(mesh=0)],
        meshes=[pygltflib.Mesh(primitives=[pygltflib.Primitive(attributes=pygltflib.Attributes(POSITION=0))])],
        accessors=[pygltflib.Accessor(bufferView=7, componentType=pygltflib.FLOAT, count=3, type=pygltflib.VEC3, max=[1, 1, 0], min=[0, 0, 0])],
        bufferViews=[pygltflib.BufferView(buffer=0, byteLength=len(positions), target=pygltflib.ARRAY_BUFFER)],
        buffers=[pygltflib.Buffer(byteLength=len(positions))],
    )
    gltf.set_binary_blob(positions)
    return b"".join(gltf.save_to_bytes())


def test_a_model_the_optimiser_cannot_read_is_refused_and_nothing_is_stored(people, client_for, press):
    response = upload(client_for(people["staff"]), press, "press.glb", unreadable_glb())
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The model could not be read")
    press.refresh_from_db()
    assert not press.model_file and not press.model_original and press.model_stats == {}


def test_without_the_optimiser_the_upload_is_served_as_it_came(people, client_for, press, cad, settings):
    settings.MODEL_OPTIMIZER_NODE = "/nonexistent/node"
    response = upload(client_for(people["staff"]), press, "press.glb", cad)
    assert response.status_code == 200
    assert response.json()["model_far_url"] is None
    press.refresh_from_db()
    assert Path(press.model_file.path).read_bytes() == cad == Path(press.model_original.path).read_bytes()
    assert press.model_stats["optimised"] is False
    assert "/nonexistent/node" in press.model_stats["reason"]


def test_a_model_whose_texture_points_at_a_server_file_is_refused(people, client_for, press, tmp_path):
    """The optimiser reads only what the upload carries: an image URI naming a file on the server is not
    followed (the file's bytes must not end up in a served model)."""
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"SECRET")
    glb = pygltflib.GLTF2.load_from_bytes(unreadable_glb())
    glb.accessors[0].bufferView = 0
    glb.meshes[0].primitives[0].material = 0
    glb.materials = [pygltflib.Material(pbrMetallicRoughness=pygltflib.PbrMetallicRoughness(baseColorTexture=pygltflib.TextureInfo(index=0)))]
    glb.textures, glb.images = [pygltflib.Texture(source=0)], [pygltflib.Image(uri=str(secret))]
    response = upload(client_for(people["staff"]), press, "press.glb", b"".join(glb.save_to_bytes()))
    assert response.status_code == 400
    assert "external images" in response.json()["detail"]
    press.refresh_from_db()
    assert not press.model_file
