// Optimises one uploaded glTF/GLB with glTF-Transform, offline (every encoder is an npm package here).
//
//   node optimize.mjs optimize IN NEAR.glb FAR.glb [--texture-px 1024] [--far-texture-px 256] [--far-ratio 0.05] [--far-error 0.01]
//   node optimize.mjs inspect FILE
//
// `optimize` writes the near level (welded, meshopt-compressed, textures resized and re-encoded as WebP) and
// the far level of detail (the same, simplified with meshoptimizer, smaller textures), and prints one JSON
// line: {"original": stats, "near": stats, "far": stats, "seconds"}. `inspect` prints the stats of one file
// (it decodes meshopt, so it reads what `optimize` wrote). A stats object is {bytes, triangles, meshes,
// bounds: [[min xyz], [max xyz]]}. Anything the reader refuses exits 2 with the reason on stderr.
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Logger, NodeIO, getBounds } from '@gltf-transform/core';
import { ALL_EXTENSIONS } from '@gltf-transform/extensions';
import { dedup, meshopt, prune, simplify, textureCompress, weld } from '@gltf-transform/functions';
import { MeshoptDecoder, MeshoptEncoder, MeshoptSimplifier } from 'meshoptimizer';
import sharp from 'sharp';

const TRIANGLES = 4;

const QUIET = new Logger(Logger.Verbosity.WARN); // stdout carries only the JSON answer

async function io() {
  await Promise.all([MeshoptDecoder.ready, MeshoptEncoder.ready, MeshoptSimplifier.ready]);
  return new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies({
    'meshopt.decoder': MeshoptDecoder,
    'meshopt.encoder': MeshoptEncoder,
  });
}

function stats(document, bytes) {
  const scene = document.getRoot().getDefaultScene() || document.getRoot().listScenes()[0];
  let triangles = 0;
  let meshes = 0;
  scene.traverse((node) => {
    const mesh = node.getMesh();
    if (!mesh) return;
    meshes += 1;
    for (const primitive of mesh.listPrimitives()) {
      if (primitive.getMode() !== TRIANGLES) continue;
      const indices = primitive.getIndices();
      triangles += (indices ? indices.getCount() : primitive.getAttribute('POSITION').getCount()) / 3;
    }
  });
  const { min, max } = getBounds(scene);
  return { bytes, triangles, meshes, bounds: [min, max] };
}

async function write(nodeIO, document, path) {
  await nodeIO.write(path, document);
  return (await stat(path)).size;
}

async function optimize(nodeIO, [input, nearPath, farPath], opts) {
  const started = performance.now();
  const source = await readFile(input);
  const read = (bytes) => (input.toLowerCase().endsWith('.gltf') ? nodeIO.readJSON({ json: JSON.parse(bytes.toString('utf8')), resources: {} }) : nodeIO.readBinary(bytes));
  const document = (await read(source)).setLogger(QUIET);
  const original = stats(document, source.length);
  const texturePx = Number(opts['texture-px']);
  await document.transform(
    dedup(),
    weld(),
    textureCompress({ encoder: sharp, targetFormat: 'webp', resize: [texturePx, texturePx] }),
    prune(),
  );
  // The far level starts from the same cleaned document, read again, so the near one is not simplified.
  const far = (await nodeIO.readBinary(await nodeIO.writeBinary(document))).setLogger(QUIET);
  await document.transform(meshopt({ encoder: MeshoptEncoder, level: 'high' }));
  const nearBytes = await write(nodeIO, document, nearPath);
  const farPx = Number(opts['far-texture-px']);
  await far.transform(
    simplify({ simplifier: MeshoptSimplifier, ratio: Number(opts['far-ratio']), error: Number(opts['far-error']) }),
    textureCompress({ encoder: sharp, targetFormat: 'webp', resize: [farPx, farPx] }),
    prune(),
    meshopt({ encoder: MeshoptEncoder, level: 'high' }),
  );
  const farBytes = await write(nodeIO, far, farPath);
  return {
    original,
    near: stats(await nodeIO.read(nearPath), nearBytes),
    far: stats(await nodeIO.read(farPath), farBytes),
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

async function inspect(nodeIO, [path]) {
  return stats(await nodeIO.read(path), (await stat(path)).size);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'texture-px': { type: 'string', default: '1024' },
    'far-texture-px': { type: 'string', default: '256' },
    'far-ratio': { type: 'string', default: '0.05' },
    'far-error': { type: 'string', default: '0.01' },
  },
});
const [command, ...paths] = positionals;
const commands = { optimize, inspect };
if (!commands[command]) {
  process.stderr.write('usage: optimize.mjs optimize IN NEAR.glb FAR.glb [options] | inspect FILE\n');
  process.exit(64);
}
try {
  process.stdout.write(`${JSON.stringify(await commands[command](await io(), paths, values))}\n`);
} catch (err) {
  process.stderr.write(`${err && err.message ? err.message : err}\n`);
  process.exit(2);
}
