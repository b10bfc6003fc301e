// Camera moves of the review: back to a comment's saved view, and framing a change (a box on the floor).
import * as THREE from 'three';

const forward = new THREE.Vector3();

// Fly to a saved {p, q}: the orbit target goes where the view direction meets the pin (or the floor).
export function goToSavedView(view, camera, pin = null, animate = true) {
  if (!camera || !Array.isArray(camera.p) || !Array.isArray(camera.q)) return false;
  const p = new THREE.Vector3(...camera.p);
  const q = new THREE.Quaternion(...camera.q).normalize();
  forward.set(0, 0, -1).applyQuaternion(q);
  let dist = 20;
  if (pin) {
    // Project the pin onto the view ray: keeps the pin centred if the author looked at it.
    const along = new THREE.Vector3(...pin).sub(p).dot(forward);
    if (along > 1) dist = along;
  } else if (forward.y < -0.05) {
    dist = Math.min(400, p.y / -forward.y);
  }
  const target = p.clone().add(forward.clone().multiplyScalar(dist));
  view.flyTo(p, target, animate);
  return true;
}

// Frame an axis-aligned box {minX, maxX, minZ, maxZ, height} from the current viewing direction, centred in the
// part of the viewport that `insetLeft` CSS pixels of panel do not cover.
export function frameBox(view, box, animate = true, insetLeft = 0) {
  const center = new THREE.Vector3((box.minX + box.maxX) / 2, (box.height || 1) / 2, (box.minZ + box.maxZ) / 2);
  const size = Math.hypot(box.maxX - box.minX, box.maxZ - box.minZ, box.height || 1);
  const width = Math.max(1, view.size.width);
  const inset = Math.min(Math.max(0, insetLeft), width * 0.6);
  const dist = Math.max(12, size * 1.9) * (width / (width - inset));
  const dir = view.camera.position.clone().sub(view.controls.target).normalize();
  if (dir.y < 0.45) dir.y = 0.6;
  dir.normalize();
  const position = center.clone().add(dir.clone().multiplyScalar(dist));
  const target = center.clone();
  if (inset > 0) {
    const perPixel = (2 * dist * Math.tan(THREE.MathUtils.degToRad(view.camera.fov / 2))) / Math.max(1, view.size.height);
    const right = new THREE.Vector3().crossVectors(dir.clone().negate(), new THREE.Vector3(0, 1, 0)).normalize();
    const shift = right.multiplyScalar(-(inset / 2) * perPixel);
    position.add(shift);
    target.add(shift);
  }
  view.flyTo(position, target, animate);
}

export function currentCamera(view) {
  const r = (v) => Math.round(v * 1000) / 1000;
  return { p: view.camera.position.toArray().map(r), q: view.camera.quaternion.toArray().map((v) => Math.round(v * 1e6) / 1e6) };
}
