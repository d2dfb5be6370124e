/**
 * RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, quote or line break, quotes
 * doubled. Cells that a spreadsheet would run as a formula (leading = + - @, tab or CR) are
 * prefixed with a single quote (OWASP "CSV Injection"): owner names are free text.
 */
export function toCsv<R extends object>(columns: ReadonlyArray<keyof R & string>, rows: readonly R[]): string {
  const lines = [columns.map(cell).join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

function cell(value: unknown): string {
  let text = value === null || value === undefined ? '' : Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
