"""Optimising an uploaded glTF/GLB for the workspace with glTF-Transform (tools/model-optimizer, run by Node).

A CAD export is mostly raw float geometry and full-size textures; the workspace wants it small. The tool
welds and meshopt-compresses the geometry, resizes textures (WebP), and writes a simplified far level of
detail beside it. It is an npm package installed by scripts/setup.sh and needs nothing from the network.

A file the tool's reader refuses is bad input (Invalid, nothing stored). When the tool itself cannot run
(no Node, not installed, killed, too slow) the model is still valid: the caller stores the upload as it is
and `stats["optimised"]` is false with the reason, which the admin shows.
"""
import json
import logging
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from ..errors import Invalid

log = logging.getLogger(__name__)

TOOL = Path(settings.BASE_DIR) / "tools" / "model-optimizer" / "optimize.mjs"
REFUSED = 2  # optimize.mjs: the reader refused the file
TEXTURE_PX = 1024  # near level: longest texture side
FAR_TEXTURE_PX = 256
FAR_RATIO = 0.05  # far level: keep about 5 % of the vertices…
FAR_ERROR = 0.01  # …as long as no point moves more than 1 % of the model's size


@dataclass
class Optimised:
    near: bytes | None  # None when the tool could not run: serve the upload itself
    far: bytes | None
    stats: dict


def optimize_model(content: bytes, filename: str) -> Optimised:
    """Run the optimiser on one validated upload; `stats` has the bytes, triangles and bounds of each level."""
    suffix = ".gltf" if filename.lower().endswith(".gltf") else ".glb"
    with tempfile.TemporaryDirectory(prefix="model-") as tmp:
        source, near, far = Path(tmp) / f"in{suffix}", Path(tmp) / "near.glb", Path(tmp) / "far.glb"
        source.write_bytes(content)
        command = [
            settings.MODEL_OPTIMIZER_NODE, str(TOOL), "optimize", str(source), str(near), str(far),
            "--texture-px", str(TEXTURE_PX), "--far-texture-px", str(FAR_TEXTURE_PX),
            "--far-ratio", str(FAR_RATIO), "--far-error", str(FAR_ERROR),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=settings.MODEL_OPTIMIZE_TIMEOUT_S, check=False)
        except FileNotFoundError:
            return _not_optimised(content, f"Node.js ({settings.MODEL_OPTIMIZER_NODE}) was not found.")
        except subprocess.TimeoutExpired:
            return _not_optimised(content, f"The optimiser took longer than {settings.MODEL_OPTIMIZE_TIMEOUT_S} s.")
        reason = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode == REFUSED:
            raise Invalid(f"The model could not be read: {reason.splitlines()[-1] if reason else 'unknown error'}", errors={"model_file": ["Unreadable model."]})
        if done.returncode != 0:
            return _not_optimised(content, f"The optimiser failed (exit {done.returncode}): {reason[-300:] or 'no message'}")
        stats = json.loads(done.stdout)
        return Optimised(near=near.read_bytes(), far=far.read_bytes(), stats={"optimised": True, "tool": "glTF-Transform", **stats})


def _not_optimised(content: bytes, reason: str) -> Optimised:
    log.warning("Model stored unoptimised: %s", reason)
    return Optimised(near=None, far=None, stats={"optimised": False, "reason": reason, "original": {"bytes": len(content)}})


def describe(stats: dict) -> str:
    """One line for the admin: sizes (and triangles) before and after."""
    if not stats:
        return "—"
    original = stats.get("original", {})
    if not stats.get("optimised"):
        return f"{_size(original.get('bytes', 0))}, not optimised: {stats.get('reason', 'unknown')}"
    near, far = stats["near"], stats["far"]
    return (f"{_size(original['bytes'])} → {_size(near['bytes'])}, far view {_size(far['bytes'])} with "
            f"{far['triangles']:,} of {original['triangles']:,} triangles; optimised in {stats['seconds']:.1f} s")


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"
