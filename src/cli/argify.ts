/**
 * Splitting one line of text into arguments the way etcdctl does for `txn` and interactive
 * `watch` lines: double-quoted strings with Go escapes, single-quoted strings verbatim, and
 * bare words.
 *
 * Must never: run a shell or expand anything.
 */
import { CliExit, ExitCode } from './exit.js';

const token = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?/g;

export function argify(line: string): string[] {
  return (line.match(token) ?? []).map((a) => {
    if (a.startsWith("'")) return a.slice(1, -1);
    if (a.startsWith('"')) return goUnquote(a);
    return a;
  });
}

const simpleEscapes: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'",
};

/** strconv.Unquote of a double-quoted Go string literal. */
export function goUnquote(q: string): string {
  const bad = (): CliExit => new CliExit(ExitCode.InvalidInput, 'invalid syntax');
  if (q.length < 2 || !q.startsWith('"') || !q.endsWith('"')) throw bad();
  const body = q.slice(1, -1);
  const bytes: number[] = [];
  const pushText = (s: string): void => { bytes.push(...Buffer.from(s, 'utf8')); };
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') { pushText(c); continue; }
    const e = body[++i];
    if (e === undefined) throw bad();
    if (simpleEscapes[e] !== undefined) { pushText(simpleEscapes[e]); continue; }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const h = body.slice(i + 1, i + 1 + hexLen);
      if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== hexLen) throw bad();
      if (e === 'x') bytes.push(parseInt(h, 16)); else pushText(String.fromCodePoint(parseInt(h, 16)));
      i += hexLen;
      continue;
    }
    if (/[0-7]/.test(e)) {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o)) throw bad();
      bytes.push(parseInt(o, 8));
      i += 2;
      continue;
    }
    throw bad();
  }
  // Arguments are text from here on; bytes that are not UTF-8 cannot survive that (documented limit).
  return Buffer.from(bytes).toString('utf8');
}
