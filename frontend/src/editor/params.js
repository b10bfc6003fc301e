// Asset params of CONTRACT §3 and §7 with units, validation rules and which asset kinds use them.
// CONTRACT §7 adds setups, scrap, accumulating conveyors and operator pools; `scale` shows a fraction as %.
const STATIONS = ['machine', 'assembly', 'robot', 'conveyor'];
export const PARAM_SPECS = [
  { key: 'cycle_time_s', label: 'Cycle time', unit: 's', min: 0, exclusiveMin: true, nullable: false, kinds: STATIONS, help: 'Mean processing time (types without their own cycle time below)' },
  { key: 'cycle_cv', label: 'Cycle CV', unit: '', min: 0, nullable: false, kinds: STATIONS, help: '0 deterministic, 1 exponential' },
  { key: 'capacity', label: 'Capacity', unit: 'parts', min: 1, max: 10000, integer: true, nullable: false, kinds: ['machine', 'assembly', 'buffer', 'robot', 'operator', 'conveyor'], help: 'Parallel servers (machine) or slots (buffer)', byKind: { operator: { label: 'Workers', unit: 'workers', help: 'Workers in this operator pool' } } },
  { key: 'mtbf_s', label: 'MTBF', unit: 's', min: 0, exclusiveMin: true, nullable: true, nullText: 'never fails', kinds: STATIONS, help: 'Mean operating time between failures' },
  { key: 'mttr_s', label: 'MTTR', unit: 's', min: 0, exclusiveMin: true, nullable: true, nullText: 'no failures', kinds: STATIONS, help: 'Mean time to repair' },
  { key: 'interarrival_s', label: 'Interarrival', unit: 's', min: 0, exclusiveMin: true, nullable: true, nullText: 'unlimited supply', kinds: ['source'], help: 'Mean time between parts' },
  { key: 'interarrival_cv', label: 'Interarrival CV', unit: '', min: 0, nullable: false, kinds: ['source'], help: '0 deterministic, 1 exponential' },
];

// The numeric params of CONTRACT §7 (kept apart from the §3 ones above, which other features list on their own).
export const LINE_PARAM_SPECS = [
  { key: 'setup_time_s', label: 'Setup time', unit: 's', min: 0, nullable: false, kinds: ['machine', 'assembly'], help: 'Changeover before a part of another type than the previous one' },
  { key: 'setup_cv', label: 'Setup CV', unit: '', min: 0, nullable: false, kinds: ['machine', 'assembly'], help: '0 deterministic, 1 exponential' },
  { key: 'scrap_rate', label: 'Scrap rate', unit: '%', scale: 100, min: 0, max: 100, exclusiveMax: true, nullable: false, kinds: ['machine', 'assembly'], help: 'Share of processed parts scrapped (0 to below 100 %)' },
  { key: 'length_m', label: 'Belt length', unit: 'm', min: 0, exclusiveMin: true, nullable: false, kinds: ['conveyor'], help: 'Accumulating conveyor: length / speed is the ride time' },
  { key: 'speed_mps', label: 'Belt speed', unit: 'm/s', min: 0, exclusiveMin: true, nullable: false, kinds: ['conveyor'], help: 'Accumulating conveyor speed' },
  { key: 'spacing_m', label: 'Part spacing', unit: 'm', min: 0, exclusiveMin: true, nullable: false, kinds: ['conveyor'], help: 'At most length / spacing parts ride at once' },
];
const ALL_PARAM_SPECS = [...PARAM_SPECS, ...LINE_PARAM_SPECS];

// The spec as shown for one asset kind (an operator pool's capacity is its number of workers).
export function specForKind(spec, kind) {
  return spec.byKind && spec.byKind[kind] ? { ...spec, ...spec.byKind[kind] } : spec;
}

// §7 params that are not one number, and the kinds whose inspector edits them.
export const TYPE_PARAM_KINDS = {
  mix: ['source'],
  cycle_time_by_type: ['machine', 'assembly'],
  output_type: ['assembly'],
  operator: STATIONS,
  repair_operator: STATIONS,
};
export const MAX_TYPE_NAME = 64;
export const MAX_TYPES = 50;

// A part type name as the server accepts it, or an error text.
export function typeNameError(name) {
  if (typeof name !== 'string' || !name.trim()) return 'Enter a type name';
  if (name.length > MAX_TYPE_NAME) return `At most ${MAX_TYPE_NAME} characters`;
  return null;
}

export const PARAM_BY_KEY = Object.fromEntries(ALL_PARAM_SPECS.map((s) => [s.key, s]));

export const CONNECTION_SPECS = [
  { key: 'buffer_capacity', label: 'Buffer capacity', unit: 'parts', min: 0, integer: true, nullable: true, nullText: 'unbounded' },
  { key: 'transport_speed_mps', label: 'Transport speed', unit: 'm/s', min: 0, exclusiveMin: true, nullable: true, nullText: 'no transport time' },
  { key: 'weight', label: 'Routing weight', unit: '', min: 0, exclusiveMin: true, nullable: false },
];
export const QUANTITY_SPEC = { key: 'quantity', label: 'Quantity', unit: 'parts', min: 1, max: 1000, integer: true, nullable: false, help: 'Parts an assembly takes from this connection per cycle (other targets ignore it)' };

// Params shown for an asset: the ones its kind uses plus any key present in its params or type defaults.
export function paramSpecsFor(kind, params = {}, defaults = {}) {
  const keys = new Set(Object.keys(params || {}).concat(Object.keys(defaults || {})));
  return ALL_PARAM_SPECS.filter((s) => s.kinds.includes(kind) || keys.has(s.key)).map((s) => specForKind(s, kind));
}

// Parses a text field into a number/null, or returns {error}. Empty text means "absent" (use the default).
// Limits are in the shown unit; a `scale`d value (a % shown for a fraction) is stored unscaled.
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
  if (spec.max !== undefined && (spec.exclusiveMax ? value >= spec.max : value > spec.max)) return { error: spec.exclusiveMax ? `Must be below ${spec.max}` : `Must be at most ${spec.max}` };
  return { value: spec.scale ? value / spec.scale : value };
}
