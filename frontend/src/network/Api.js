// REST client for CONTRACT §3: session cookie + X-CSRFToken, JSON errors turned into ApiError.
export class ApiError extends Error {
  constructor(status, body) {
    super(describeError(body) || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }

  get isConflict() {
    return this.status === 409;
  }

  get current() {
    return this.body && this.body.current;
  }
}

export function describeError(body) {
  if (!body) return '';
  if (typeof body === 'string') return body.slice(0, 300);
  if (body.detail) return String(body.detail);
  if (body.message) return String(body.message);
  const parts = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'current') continue;
    const text = Array.isArray(value) ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : v)).join(' ') : typeof value === 'object' ? describeError(value) : value;
    parts.push(key === 'non_field_errors' ? text : `${key}: ${text}`);
  }
  return parts.join('; ');
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

export async function request(method, url, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(method);
  if (unsafe) headers['X-CSRFToken'] = csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, { detail: `Network error: ${err.message}` });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: `Unexpected response (${response.status})` };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

async function listAll(url) {
  const out = [];
  let next = url;
  let guard = 0;
  while (next && guard++ < 200) {
    const page = await request('GET', next);
    if (Array.isArray(page)) return page;
    out.push(...(page.results || []));
    next = page.next;
  }
  return out;
}

export const Api = {
  request,
  listAll,
  login: (username, password) => request('POST', '/api/auth/login/', { username, password }),
  logout: () => request('POST', '/api/auth/logout/', {}),
  factories: () => listAll('/api/factories/'),
  layouts: (factoryId) => listAll(`/api/layouts/?factory=${encodeURIComponent(factoryId)}`),
  scene: (layoutId) => request('GET', `/api/layouts/${layoutId}/scene/`),
  branch: (layoutId, name) => request('POST', `/api/layouts/${layoutId}/branch/`, { name }),
  createAsset: (data) => request('POST', '/api/assets/', data),
  updateAsset: (id, changes, version) => request('PATCH', `/api/assets/${id}/`, { ...changes, version }),
  deleteAsset: (id, version) => request('DELETE', `/api/assets/${id}/`, undefined, { 'If-Match': `"${version}"` }),
  createConnection: (data) => request('POST', '/api/connections/', data),
  updateConnection: (id, changes, version) => request('PATCH', `/api/connections/${id}/`, version === undefined ? changes : { ...changes, version }),
  deleteConnection: (id) => request('DELETE', `/api/connections/${id}/`),
};
