// REST calls of calibration (CONTRACT §9): one twin's fits over a window, and writing them into a draft.
import { request } from '../../network/Api.js';

const q = (params) => Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

export const CalibrationApi = {
  fit: (twinId, { from, to }) => request('GET', `/api/twins/${twinId}/calibration/?${q({ from, to })}`),
  apply: (layoutId, { from, to, assets = null }) => request('POST', `/api/layouts/${layoutId}/calibrate/`, { from, to, assets }),
};
