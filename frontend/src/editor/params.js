// Asset params of CONTRACT §3 with units, validation rules and which asset kinds use them.
export const PARAM_SPECS = [
  { key: 'cycle_time_s', label: 'Cycle time', unit: 's', min: 0, exclusiveMin: true, nullable: false, kinds: ['machine', 'robot', 'operator', 'conveyor'], help: 'Mean processing time' },
  { key: 'cycle_cv', label: 'Cycle CV', unit: '', min: 0, nullable: false, kinds: ['machine', 'robot', 'operator', 'conveyor'], help: '0 deterministic, 1 exponential' },
  { key: 'capacity', label: 'Capacity', unit: 'parts', min: 1, integer: true, nullable: false, kinds: ['machine', 'buffer', 'robot', 'operator', 'conveyor'], help: 'Parallel servers (machine) or slots (buffer)' },
  { key: 'mtbf_s', label: 'MTBF', unit: 's', min: 0, exclusiveMin: true, nullable: true, nullText: 'never fails', kinds: ['machine', 'robot', 'conveyor'], help: 'Mean operating time between failures' },
  { key: 'mttr_s', label: 'MTTR', unit: 's', min: 0, exclusiveMin: true, nullable: true, nullText: 'no failures', kinds: ['machine', 'robot', 'conveyor'], help: 'Mean time to repair' },
  { key: 'interarrival_s', label: 'Interarrival', unit: 's', min: 0, exclusiveMin: true, nullable: true, nullText: 'unlimited supply', kinds: ['source'], help: 'Mean time between parts' },
  { key: 'interarrival_cv', label: 'Interarrival CV', unit: '', min: 0, nullable: false, kinds: ['source'], help: '0 deterministic, 1 exponential' },
];

export const PARAM_BY_KEY = Object.fromEntries(PARAM_SPECS.map((s) => [s.key, s]));

export const CONNECTION_SPECS = [
  { key: 'buffer_capacity', label: 'Buffer capacity', unit: 'parts', min: 0, integer: true, nullable: true, nullText: 'unbounded' },
  { key: 'transport_speed_mps', label: 'Transport speed', unit: 'm/s', min: 0, exclusiveMin: true, nullable: true, nullText: 'no transport time' },
  { key: 'weight', label: 'Routing weight', unit: '', min: 0, exclusiveMin: true, nullable: false },
];

// Params shown for an asset: the ones its kind uses plus any key present in its params or type defaults.
export function paramSpecsFor(kind, params = {}, defaults = {}) {
  const keys = new Set(Object.keys(params || {}).concat(Object.keys(defaults || {})));
  return PARAM_SPECS.filter((s) => s.kinds.includes(kind) || keys.has(s.key));
}

// Parses a text field into a number/null, or returns {error}. Empty text means "absent" (use the default).
export function parseValue(spec, text) {
  const raw = String(text ?? '').trim();
  if (raw === '') return { empty: true };
  if (spec.nullable && (raw === spec.nullText || /^(null|none|∞|inf|never|unbounded|unlimited|-)$/i.test(raw))) return { value: null };
  const value = Number(raw.replace(',', '.'));
  if (!Number.isFinite(value)) return { error: 'Enter a number' };
  if (spec.integer && !Number.isInteger(value)) return { error: 'Enter a whole number' };
  if (spec.min !== undefined) {
    if (spec.exclusiveMin ? value <= spec.min : value < spec.min) return { error: spec.exclusiveMin ? `Must be greater than ${spec.min}` : `Must be at least ${spec.min}` };
  }
  if (spec.max !== undefined && value > spec.max) return { error: `Must be at most ${spec.max}` };
  return { value };
}
