/**
 * ASCII tables as etcdctl draws them (olekukonko/tablewriter with right-aligned cells): a
 * `+---+` border, upper-case centred headers, one space of padding each side.
 *
 * Must never: wrap or truncate cells (etcdctl does not for these tables).
 */

/** Display width: code points (etcdctl's tables hold ASCII in practice). */
function width(s: string): number {
  return [...s].length;
}

function center(s: string, w: number): string {
  const gap = w - width(s);
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + s + ' '.repeat(gap - left);
}

export function renderTable(header: string[], rows: string[][]): string {
  const head = header.map((h) => h.toUpperCase());
  const widths = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const border = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  let out = border;
  out += '|' + head.map((h, i) => ' ' + center(h, widths[i]) + ' ').join('|') + '|\n';
  out += border;
  for (const r of rows) {
    out += '|' + widths.map((w, i) => ' ' + (r[i] ?? '').padStart(w + (r[i] ?? '').length - width(r[i] ?? '')) + ' ').join('|') + '|\n';
  }
  out += border;
  return out;
}
