// REST calls of the review feature (CONTRACT §3: workflow, diff, comments, scenarios, compare, simulations).
import { Api, request } from '../../network/Api.js';

const q = (params) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');

export const ReviewApi = {
  layout: (id) => request('GET', `/api/layouts/${id}/`),
  layouts: (factoryId) => Api.layouts(factoryId),
  branch: (id, name, description = '') => request('POST', `/api/layouts/${id}/branch/`, { name, description }),
  transition: (id, verb, body = {}) => request('POST', `/api/layouts/${id}/${verb}/`, body),
  diff: (id, against) => request('GET', `/api/layouts/${id}/diff/?${q({ against })}`),
  scenarios: (factory) => Api.listAll(`/api/scenarios/?${q({ factory })}`),
  compare: (layout, against, runs = {}) => request('GET', `/api/compare/?${q({ layout, against, run: runs.layout, against_run: runs.against })}`),
  comments: (layout) => Api.listAll(`/api/comments/?${q({ layout })}`),
  addComment: (data) => request('POST', '/api/comments/', data),
  editComment: (id, changes) => request('PATCH', `/api/comments/${id}/`, changes),
  deleteComment: (id) => request('DELETE', `/api/comments/${id}/`),
  resolveComment: (id, resolved) => request('POST', `/api/comments/${id}/${resolved ? 'resolve' : 'reopen'}/`, {}),
  startSimulation: (params) => request('POST', '/api/simulations/', params),
  simulation: (id) => request('GET', `/api/simulations/${id}/`),
  simulations: (layout) => request('GET', `/api/simulations/?${q({ layout })}`).then((page) => (Array.isArray(page) ? page : page.results || [])),
  factory: (id) => request('GET', `/api/factories/${id}/`),
  listFactories: () => Api.factories(),
};

export const STATUS_LABEL = { draft: 'Draft', in_review: 'In review', approved: 'Approved', rejected: 'Rejected', archived: 'Archived' };
export const ROLE_RANK = { viewer: 0, engineer: 1, manager: 2, owner: 3 };

// Which workflow actions a role may take on a layout in a given status (CONTRACT §2).
export function allowedActions(status, role) {
  const rank = ROLE_RANK[role] ?? 0;
  return {
    branch: rank >= 1,
    submit: rank >= 1 && status === 'draft',
    approve: rank >= 2 && status === 'in_review',
    reject: rank >= 2 && status === 'in_review',
    archive: rank >= 2 && (status === 'draft' || status === 'rejected'),
  };
}

export const PAST = { submit: 'submitted', approve: 'approved', reject: 'rejected', archive: 'archived' };
