// An experiment as a CSV or JSON file, built in the browser from the experiment's JSON (no round trip).
// A text cell that starts with = + - @ (or a tab / carriage return) is prefixed with ' so that a
// spreadsheet shows it instead of evaluating it: an asset named "=HYPERLINK(…)" stays text.
const KPI_COLUMNS = [
  ['throughput_per_hour', 'throughput_per_hour'],
  ['lead_time_s', 'lead_time_s'],
  ['wip', 'wip'],
  ['scrap_per_hour', 'scrap_per_hour'],
];

export function csvCell(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function experimentCsv(exp) {
  const labels = exp.factors.map((f) => f.label);
  const header = ['point', 'status', 'run', ...labels, ...KPI_COLUMNS.flatMap(([, name]) => [`${name}_mean`, `${name}_ci95`]), 'best'];
  const rows = (exp.points || []).map((p) => {
    const r = p.results || {};
    return [
      p.index,
      p.status,
      p.run,
      ...labels.map((l) => (p.values[l] === null ? 'none' : p.values[l])),
      ...KPI_COLUMNS.flatMap(([key]) => [r[key] ? r[key].mean : null, r[key] ? r[key].ci95 : null]),
      p.index === exp.best ? 'yes' : '',
    ];
  });
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function exportExperiment(exp, format) {
  const base = `experiment-${exp.id}`;
  if (format === 'csv') download(`${base}.csv`, experimentCsv(exp), 'text/csv;charset=utf-8');
  else download(`${base}.json`, `${JSON.stringify(exp, null, 2)}\n`, 'application/json');
}
