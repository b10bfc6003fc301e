// Message shapes of the layout room (CONTRACT §5). The client builds every frame through these helpers.
export const CLOSE = {
  NO_USER: 4401,
  NOT_MEMBER: 4403,
  NO_LAYOUT: 4404,
  TOO_BIG: 4009,
  POLICY: 4008,
  SLOW: 4500,
  NO_REDIS: 4503,
};

// Close codes after which reconnecting cannot help.
export const FINAL_CLOSES = new Set([CLOSE.NO_USER, CLOSE.NOT_MEMBER, CLOSE.NO_LAYOUT]);

export const msg = {
  pose: (p, q) => ({ type: 'pose', p, q }),
  op: (id, kind, fields) => ({ type: 'op', id, kind, ...fields }),
  lock: (asset) => ({ type: 'lock', asset }),
  unlock: (asset) => ({ type: 'unlock', asset }),
  chat: (text) => ({ type: 'chat', text: String(text).slice(0, 2000) }),
  summon: (position, target) => ({ type: 'summon', position, target }),
  resync: (seq) => ({ type: 'resync', seq }),
  ping: () => ({ type: 'ping' }),
};

// A `rejected` frame's code as the HTTP status the editor already understands.
export const REJECT_STATUS = { conflict: 409, forbidden: 403, invalid: 400, locked: 423, not_found: 404 };
