// REST calls of the experiments feature (CONTRACT §8 `/api/experiments/`).
import { request } from '../../network/Api.js';

export const ExpApi = {
  list: (layoutId) => request('GET', `/api/experiments/?layout=${encodeURIComponent(layoutId)}`).then((p) => (Array.isArray(p) ? p : p.results || [])),
  get: (id) => request('GET', `/api/experiments/${id}/`),
  create: (body) => request('POST', '/api/experiments/', body),
  cancel: (id) => request('POST', `/api/experiments/${id}/cancel/`, {}),
  apply: (id, point, name) => request('POST', `/api/experiments/${id}/apply/`, { point, name }),
};

export const ACTIVE = new Set(['queued', 'running']);

// What to tell a person when a call fails: the server's words plus what to do next.
export function explain(err, action) {
  const said = err && err.message ? err.message.replace(/\.?$/, '.') : '';
  if (!err || err.status === 0) return `Could not ${action}: the server did not answer. Check your connection and try again.`;
  if (err.status === 401) return `Could not ${action}: you were signed out. Sign in again and retry.`;
  if (err.status === 403) return `Could not ${action}: only engineers and up can do this. Ask a manager of this factory for the engineer role.`;
  if (err.status === 404) return `Could not ${action}: it no longer exists. Reload the page to see the current list.`;
  if (err.status === 409) return `Could not ${action}: ${said} Reload the experiment to see where it stands.`;
  if (err.status === 400) return `Could not ${action}: ${said} Correct it and try again.`;
  if (err.status === 429) return `Could not ${action}: too many requests. Wait a few seconds and try again.`;
  return `Could not ${action}: ${said || `the server answered ${err.status}.`} Try again in a moment.`;
}
