// Picks a rendering profile: full quality on a GPU, a lean one (no MSAA, no shadow maps) on software
// rasterisers such as SwiftShader or llvmpipe, where shadows alone cost ~1 s a frame.
// Override with ?quality=high|low in the URL.

let cached = null;

export function detectQuality() {
  if (cached) return cached;
  const forced = new URLSearchParams(location.search).get('quality');
  let renderer = '';
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2') || canvas.getContext('webgl');
    if (gl) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
      const lose = gl.getExtension('WEBGL_lose_context');
      if (lose) lose.loseContext();
    }
  } catch {
    renderer = '';
  }
  const software = /swiftshader|llvmpipe|software|softpipe|microsoft basic render/i.test(renderer);
  const level = forced === 'high' || forced === 'low' ? forced : software ? 'low' : 'high';
  cached = {
    level,
    renderer,
    software,
    antialias: level === 'high',
    shadows: level === 'high',
    maxPixelRatio: level === 'high' ? 2 : 1,
  };
  return cached;
}
