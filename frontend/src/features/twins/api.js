// REST calls of the live twin feature (CONTRACT §3 twins, history, alarms, alarm rules).
import { request, Api } from '../../network/Api.js';

const q = (params) => Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

export const TwinApi = {
  twins: (factory) => Api.listAll(`/api/twins/?${q({ factory })}`),
  history: (id, { name, from, to, bucket_s }) => request('GET', `/api/twins/${id}/history/?${q({ name, from, to, bucket_s })}`),
  alarms: (factory) => Api.listAll(`/api/alarms/?${q({ factory, active: 1 })}`),
  ack: (id) => request('POST', `/api/alarms/${id}/ack/`, {}),
  rules: (factory) => Api.listAll(`/api/alarm-rules/?${q({ factory })}`),
  createRule: (data) => request('POST', '/api/alarm-rules/', data),
  deleteRule: (id) => request('DELETE', `/api/alarm-rules/${id}/`),
};
