// Which `applied` kinds can change what a simulation of the layout computes: the exact mirror of
// is_content_kind in twins/services/common.py (tests/review/test_staleness.py checks that they agree).
// Only changes to the layout's own record (name, description, workflow status) leave a run current.
export const METADATA_KINDS = new Set(['layout.update']);

export function isContentKind(kind) {
  return !METADATA_KINDS.has(kind);
}
