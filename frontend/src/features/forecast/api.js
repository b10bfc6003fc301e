// REST calls of the live plant view (CONTRACT §9): plan against actual, and live forecast runs.
import { request } from '../../network/Api.js';
import { SimApi } from '../simulation/api.js';

const q = (params) => Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

export const ForecastApi = {
  planVsActual: (layoutId, { from, to, bucket_s = 3600 }) => request('GET', `/api/layouts/${layoutId}/plan-vs-actual/?${q({ from, to, bucket_s })}`),
  runs: (layoutId) => SimApi.list(layoutId),
  run: (id) => SimApi.get(id),
  start: (layoutId, horizonS) => request('POST', '/api/simulations/', { layout: layoutId, horizon_s: horizonS, warmup_s: 0, replications: 10, initial_state: 'live' }),
};
