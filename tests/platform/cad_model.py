"""A real multi-mesh glTF model for the model-optimisation tests: a machine built with trimesh the way a CAD
export looks (many finely tessellated parts, several materials, one textured panel), written as GLB."""
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pygltflib
import trimesh
from PIL import Image

TOOL = Path(__file__).resolve().parents[2] / "tools" / "model-optimizer" / "optimize.mjs"


def _material(rgba, name):
    return trimesh.visual.material.PBRMaterial(name=name, baseColorFactor=rgba, metallicFactor=0.3, roughnessFactor=0.6)


def _coloured(mesh, rgba, name):
    mesh.visual = trimesh.visual.TextureVisuals(material=_material(rgba, name))
    return mesh


def _panel(size_px: int) -> trimesh.Trimesh:
    """A control panel: a thin box whose front carries a size_px × size_px texture (a noisy gradient, so it
    compresses like a photo rather than like a flat colour)."""
    rng = np.random.default_rng(7)
    ramp = np.linspace(0, 255, size_px, dtype=np.float32)
    pixels = np.stack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (size_px, 1)), np.tile(ramp[:, None], (1, size_px))], axis=-1)
    pixels = np.clip(pixels + rng.normal(0, 6, pixels.shape), 0, 255).astype(np.uint8)
    panel = trimesh.creation.box(extents=[0.6, 0.4, 0.02])
    panel.apply_translation([0.9, 1.2, 0.41])
    uv = (panel.vertices[:, :2] - panel.vertices[:, :2].min(axis=0)) / np.ptp(panel.vertices[:, :2], axis=0)
    material = trimesh.visual.material.PBRMaterial(name="panel", baseColorTexture=Image.fromarray(pixels), metallicFactor=0.0)
    panel.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    return panel


def cad_machine_glb(detail: int = 5, texture_px: int = 1024) -> bytes:
    """A CNC-like machine of six parts. `detail` is the icosphere subdivision level and scales the cylinders'
    sections: 5 gives about 60k triangles (~3 MB), 6 about 200k (~10 MB)."""
    sections = 16 * 2 ** (detail - 2)
    base = _coloured(trimesh.creation.box(extents=[2.0, 0.3, 0.8]), [0.35, 0.38, 0.42, 1.0], "cast iron")
    base.apply_translation([0, 0.15, 0])
    column = _coloured(trimesh.creation.cylinder(radius=0.18, height=1.6, sections=sections), [0.8, 0.82, 0.85, 1.0], "steel")
    column.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    column.apply_translation([-0.6, 1.1, 0])
    head = _coloured(trimesh.creation.icosphere(subdivisions=detail, radius=0.35), [0.95, 0.55, 0.1, 1.0], "safety orange")
    head.apply_translation([-0.2, 1.7, 0])
    spindle = _coloured(trimesh.creation.cylinder(radius=0.05, height=0.5, sections=sections), [0.8, 0.82, 0.85, 1.0], "steel")
    spindle.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    spindle.apply_translation([-0.2, 1.2, 0])
    chuck = _coloured(trimesh.creation.torus(major_radius=0.25, minor_radius=0.06, major_sections=sections, minor_sections=sections // 2), [0.2, 0.2, 0.22, 1.0], "black oxide")
    chuck.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    chuck.apply_translation([0.4, 0.55, 0])
    scene = trimesh.Scene()
    for name, mesh in [("base", base), ("column", column), ("head", head), ("spindle", spindle), ("chuck", chuck), ("panel", _panel(texture_px))]:
        scene.add_geometry(mesh, node_name=name, geom_name=name)
    buffer = io.BytesIO()
    scene.export(buffer, file_type="glb", include_normals=True)
    return buffer.getvalue()


def bounds(glb: bytes) -> np.ndarray:
    """The model's world-space bounding box [[min xyz], [max xyz]], read back with trimesh (which decodes
    neither meshopt nor Draco: use it on originals only)."""
    return trimesh.load(io.BytesIO(glb), file_type="glb", force="scene").bounds


def inspect(path) -> dict:
    """{bytes, triangles, meshes, bounds} of a stored model, read by the optimiser's own reader (glTF-Transform
    with the meshopt decoder), so it reads the compressed files too."""
    done = subprocess.run(["node", str(TOOL), "inspect", str(path)], capture_output=True, check=True, timeout=120)
    return json.loads(done.stdout)


def texture_sizes(glb: bytes) -> list[tuple[int, int]]:
    """The (width, height) of every image embedded in a GLB."""
    gltf = pygltflib.GLTF2.load_from_bytes(glb)
    blob = gltf.binary_blob()
    sizes = []
    for image in gltf.images:
        view = gltf.bufferViews[image.bufferView]
        start = view.byteOffset or 0
        sizes.append(Image.open(io.BytesIO(blob[start:start + view.byteLength])).size)
    return sizes
