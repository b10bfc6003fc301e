// Realtime collaboration in the browser (websocket client wiring). Filled in once the workspace works.
export function setupCollaboration() {}
