// Catalogue thumbnails of asset types that have a glTF model: the far level of detail (small, quick) drawn
// once offscreen the first time the catalogue shows the type, then kept in localStorage by model URL. The
// server names every upload by its content digest, so a new model is a new URL and a new thumbnail.
import * as THREE from 'three';
import { createGltfLoader } from './Models.js';

const WIDTH = 80;
const HEIGHT = 60;
const PREFIX = 'model-thumb:v1:';
const VIEW = new THREE.Vector3(1, 0.75, 1.3).normalize(); // three-quarter view from the front right

let renderer = null;
let loader = null;
let queue = Promise.resolve(); // one render at a time: a single small WebGL context
const pending = new Map(); // url -> Promise<dataURL|null>

// Promise of a data: URL (image/webp) picturing the type's model, or null when it has none or cannot be drawn.
export function thumbnailFor(type) {
  const url = type.model_far_url || type.model_url;
  if (!url) return Promise.resolve(null);
  if (!pending.has(url)) {
    const stored = readStored(url);
    pending.set(url, stored ? Promise.resolve(stored) : (queue = queue.then(() => render(url)).catch(() => null)));
  }
  return pending.get(url);
}

function readStored(url) {
  try {
    return localStorage.getItem(PREFIX + url);
  } catch {
    return null;
  }
}

async function render(url) {
  if (!renderer) {
    renderer = new THREE.WebGLRenderer({ antialias: true, alpha: true, preserveDrawingBuffer: true });
    renderer.setSize(WIDTH, HEIGHT, false);
    loader = createGltfLoader();
  }
  const gltf = await loader.loadAsync(url);
  const model = gltf.scene || gltf.scenes[0];
  const scene = new THREE.Scene();
  scene.add(new THREE.HemisphereLight('#ffffff', '#8899aa', 2.2));
  const sun = new THREE.DirectionalLight('#ffffff', 2.0);
  sun.position.set(3, 5, 4);
  scene.add(sun, model);
  const box = new THREE.Box3().setFromObject(model);
  const centre = box.getCenter(new THREE.Vector3());
  const radius = Math.max(1e-3, box.getBoundingSphere(new THREE.Sphere()).radius);
  const camera = new THREE.PerspectiveCamera(30, WIDTH / HEIGHT, radius / 100, radius * 10);
  camera.position.copy(centre).addScaledVector(VIEW, radius / Math.sin(THREE.MathUtils.degToRad(15)));
  camera.lookAt(centre);
  renderer.render(scene, camera);
  const dataUrl = renderer.domElement.toDataURL('image/webp', 0.85);
  model.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
    for (const m of [o.material || []].flat()) {
      for (const value of Object.values(m)) if (value && value.isTexture) value.dispose();
      m.dispose();
    }
  });
  try {
    localStorage.setItem(PREFIX + url, dataUrl);
  } catch {
    // Storage full or denied: the thumbnail is drawn again next time.
  }
  return dataUrl;
}
