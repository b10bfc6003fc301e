// Which shift the plant is in now, read from the calendar of the layout's plan (CONTRACT §7 `calendar`): the
// workspace shows a day's calendar as clock hours (06–14 h), so a period of a day starts at local midnight
// and a week's at Monday 00:00. Other periods have no place on the clock: no shift, the caller uses 8 h.
const DAY = 86400;
const WEEK = 7 * DAY;
export const DEFAULT_HORIZON_S = 8 * 3600;
const MIN_HORIZON_S = 600; // closer than this to the end of a shift, forecast the next 8 h instead

export function currentShift(calendar, now = new Date()) {
  if (!calendar || !Array.isArray(calendar.on) || ![DAY, WEEK].includes(Number(calendar.period_s))) return null;
  const start = new Date(now);
  start.setHours(0, 0, 0, 0);
  if (Number(calendar.period_s) === WEEK) start.setDate(start.getDate() - ((start.getDay() + 6) % 7));
  const pos = (now.getTime() - start.getTime()) / 1000;
  const on = calendar.on.find(([a, b]) => a <= pos && pos < b);
  return on ? { start: new Date(start.getTime() + on[0] * 1000), end: new Date(start.getTime() + on[1] * 1000) } : null;
}

// The forecast to ask for now: to the end of the current shift, or the next 8 h.
export function forecastHorizon(calendar, now = new Date()) {
  const shift = currentShift(calendar, now);
  const left = shift ? Math.round((shift.end.getTime() - now.getTime()) / 1000) : 0;
  return left >= MIN_HORIZON_S ? { horizonS: left, shiftEnd: shift.end } : { horizonS: DEFAULT_HORIZON_S, shiftEnd: null };
}
