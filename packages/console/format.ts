/** How times, durations and counts read in the console. */
const pad = (n: number) => String(n).padStart(2, "0");

/** Local time as `2026-05-01 14:03:09`: sortable, unambiguous, and short enough for a table. */
export function localTime(iso: string | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** `850 ms`, `12.3 s`, `4 min 05 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${pad(Math.round((ms % 60_000) / 1000))} s`;
}

/** `3 min ago`, relative to `now`. */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.max(seconds, 0)} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

export const count = (n: number) => n.toLocaleString("en-US");

/** A JSON value on one line, shortened for a table cell. */
export function brief(value: unknown, max = 80): string {
  const text = value === undefined ? "—" : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
