// REST calls of the simulation feature (CONTRACT §3 `/api/simulations/`).
import { request } from '../../network/Api.js';

export const SimApi = {
  list: (layoutId) => request('GET', `/api/simulations/?layout=${encodeURIComponent(layoutId)}`).then((p) => (Array.isArray(p) ? p : p.results || [])),
  get: (id) => request('GET', `/api/simulations/${id}/`),
  create: (body) => request('POST', '/api/simulations/', body),
  cancel: (id) => request('POST', `/api/simulations/${id}/cancel/`, {}),
  exportUrl: (id, format) => `/api/simulations/${id}/export/?format=${format}`,
};

export const ACTIVE = new Set(['queued', 'running']);
