// PNG screenshot of the current view and glTF export of the layout (floor, assets, connections).
import { GLTFExporter } from 'three/addons/exporters/GLTFExporter.js';

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

const slug = (s) => String(s || 'layout').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export function screenshot(view, name) {
  const dataUrl = view.screenshot();
  const bin = atob(dataUrl.split(',')[1]);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const blob = new Blob([bytes], { type: 'image/png' });
  download(blob, `${slug(name)}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.png`);
  return blob;
}

export async function exportGltf(view, name, { binary = true } = {}) {
  const exporter = new GLTFExporter();
  const result = await exporter.parseAsync(view.world, { binary, onlyVisible: true });
  const blob = binary ? new Blob([result], { type: 'model/gltf-binary' }) : new Blob([JSON.stringify(result)], { type: 'model/gltf+json' });
  download(blob, `${slug(name)}.${binary ? 'glb' : 'gltf'}`);
  return blob;
}
