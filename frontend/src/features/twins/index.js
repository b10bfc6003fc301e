// Live digital twin in the workspace: twin ids for the bound assets, the history card for the selected
// asset, the alarm panel with its unread badge, and alarmed assets pulsing in 3D. Colours and status badges
// of bound assets (the floor rings, scene/Overlays, and the label badges) come from the editor's twins; this keeps them fed.
import { TwinApi } from './api.js';
import { TwinHistoryCard } from './history.js';
import { AlarmPanel } from './alarms.js';
import { AlarmPulse } from './pulse.js';

export function setupTwins({ editor, view, ui, socket }) {
  const idByKey = new Map();
  const keyById = new Map();
  let loading = null;
  const remember = (list) => {
    for (const t of list) {
      const id = t.id ?? t.twin;
      if (id === undefined || !t.key) continue;
      idByKey.set(t.key, id);
      keyById.set(id, t.key);
    }
  };
  const loadTwins = () => (loading ||= TwinApi.twins(editor.factory.id).then((list) => {
    remember(list);
    // Twins the scene did not carry (e.g. bound after load) become known to the editor as well.
    const missing = list.filter((t) => !editor.twins.has(t.key) && [...editor.assets.values()].some((a) => a.twin_key === t.key));
    if (missing.length) editor.applyTwinUpdates(missing.map((t) => ({ ...t, twin: t.id, ts: t.updated_at })));
    return list;
  }, (err) => {
    loading = null;
    throw err;
  }));
  const twinId = async (key) => {
    const local = editor.twins.get(key);
    if (local && (local.id ?? local.twin) !== undefined) return local.id ?? local.twin;
    if (!idByKey.has(key)) await loadTwins().catch(() => null);
    return idByKey.get(key) ?? null;
  };
  const twinKey = (id) => {
    if (keyById.has(id)) return keyById.get(id);
    for (const t of editor.twins.values()) if ((t.id ?? t.twin) === id) return t.key;
    return null;
  };

  const history = new TwinHistoryCard({ editor, container: ui.sidePanels, twinId });
  const pulse = new AlarmPulse(view, editor);
  const alarms = new AlarmPanel({ editor, view, ui, socket, pulse, twinKey });
  const start = () => {
    loadTwins().then(() => alarms.render(), () => {});
    alarms.load();
  };
  if (editor.layout) start();
  else editor.signals.sceneLoaded.add(start);

  // Test and debugging hooks: the drawn colour of an asset, its twin, the pulsing set.
  return {
    history,
    alarms,
    pulse,
    twinOf: (assetId) => {
      const a = editor.assets.get(assetId);
      return a ? editor.twinOf(a) || null : null;
    },
    assetColor: (assetId) => view.assetMeshes.colorOf(assetId),
    // A twin's status shows as the ring on the floor around its asset, not on the body (issue 16).
    statusColor: (assetId) => view.beacons.colorOf(assetId),
    pulsing: () => [...pulse.items.keys()],
  };
}
