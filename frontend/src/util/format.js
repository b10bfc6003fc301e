// The one way the workspace writes durations and rates, so that every panel reads alike: a duration in the
// largest unit that keeps it readable (45 s, 7.7 min, 2.5 h, 3 d), a rate in parts per hour, a statistic
// with its 95 % interval in the same unit as its mean. Forms take warm-ups in minutes and horizons in hours.
import { fmt } from './dom.js';

export const WARMUP_UNIT = { unit: 'min', scale: 60 };
export const HORIZON_UNIT = { unit: 'h', scale: 3600 };

export function duration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  const a = Math.abs(s);
  if (a >= 86400) return `${(s / 86400).toFixed(a >= 864000 ? 0 : 1)} d`;
  if (a >= 3600) return `${(s / 3600).toFixed(a >= 36000 ? 0 : 1)} h`;
  if (a >= 60) return `${(s / 60).toFixed(a >= 600 ? 0 : 1)} min`;
  return `${s.toFixed(a >= 10 ? 0 : 1)} s`;
}

// Parts per hour (throughput, scrap).
export function rate(perHour, digits = 1) {
  if (perHour === null || perHour === undefined || !Number.isFinite(perHour)) return '—';
  return `${fmt(perHour, digits)} parts/h`;
}

// "mean ± ci95 unit" of a {mean, ci95} statistic; `kind` 's' (a duration) or 'per_hour' (a rate).
export function stat(s, kind) {
  if (!s || s.mean === null || s.mean === undefined) return '—';
  const hasCi = s.ci95 !== null && s.ci95 !== undefined;
  if (kind === 's') return hasCi ? `${duration(s.mean)} ± ${duration(s.ci95)}` : duration(s.mean);
  if (kind === 'per_hour') return hasCi ? `${fmt(s.mean, 1)} ± ${rate(s.ci95)}` : rate(s.mean);
  return hasCi ? `${fmt(s.mean, 1)} ± ${fmt(s.ci95, 1)}` : fmt(s.mean, 1);
}
