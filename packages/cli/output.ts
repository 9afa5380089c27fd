/** What commands print: aligned tables, key/value blocks and JSON. */

export const print = (text: string): void => console.log(text);
export const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

/** Columns are left-aligned, except the `rightAligned` ones (counts, durations). */
export function table(headers: string[], rows: (string | number | undefined)[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === undefined ? "-" : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  const pad = (cell: string, column: number) =>
    rightAligned.has(column) ? cell.padStart(widths[column] as number) : cell.padEnd(widths[column] as number);
  return cells.map((row) => row.map(pad).join("  ").trimEnd()).join("\n");
}

export function keyValues(entries: [string, unknown][]): string {
  const shown = entries.filter(([, value]) => value !== undefined);
  const width = Math.max(...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${typeof value === "object" ? JSON.stringify(value) : String(value)}`).join("\n");
}
