/**
 * Runs one differential session: the same seeded request sequence sent to a server under test
 * and to a reference (etcd 3.4), side by side, comparing every answer; stops at the first
 * mismatch with everything needed to replay it.
 *
 * Owns the loop and the failure report. Must never let the subject's answers steer the sequence.
 */
import { gw, type GwResponse } from '../support/gateway.js';
import { compareResponses } from './compare.js';
import { Encoder } from './kv-encoding.js';
import { KvOpGenerator, type DiffOp, type DiffState } from './kv-ops.js';
import { Rng } from './rng.js';

export interface DiffOptions {
  subjectUrl: string;
  referenceUrl: string;
  subjectName: string;
  seed: number;
  ops: number;
  /** snake_case names, int64 as strings, enum names only (see Encoder). */
  plain: boolean;
  /** Print every request and the reference's answer (DIFF_TRACE=1). */
  trace?: boolean;
  /**
   * Keep going after a mismatch until this many (DIFF_MAX_MISMATCHES, default 1), then fail
   * with all of them: one known difference need not hide the next. Later ones may be
   * consequences of earlier ones when the stores diverged.
   */
  maxMismatches?: number;
}

export interface DiffSummary {
  ops: number;
  byKind: Record<string, number>;
  /** How many reference answers were errors (non-200): a sanity check on the op mix. */
  referenceErrors: number;
  finalRevision: bigint;
}

/** The longest body printed in a failure report. */
const maxReportBodyChars = 6_000;
const maxTraceBodyChars = 400;

function clip(text: string): string {
  return text.length <= maxReportBodyChars ? text : `${text.slice(0, maxReportBodyChars)}... (${text.length} chars)`;
}

function applyToState(state: DiffState, op: DiffOp, ref: GwResponse): void {
  const revision = ref.json?.header?.revision;
  if (typeof revision === 'string') state.revision = BigInt(revision);
  if (op.compactTo !== undefined && ref.status === 200) state.compactRevision = op.compactTo;
}

function report(o: DiffOptions, index: number, op: DiffOp, sub: GwResponse, ref: GwResponse, diff: string): string {
  const flags = `DIFF_SEED=${o.seed} DIFF_OPS=${index + 1}${o.plain ? ' DIFF_PLAIN=1' : ''}`;
  return [
    `differential mismatch at op ${index} (${op.kind}), seed ${o.seed}: ${diff}`,
    `replay: ${flags}`,
    `request: POST ${op.path} ${clip(op.body)}`,
    `${o.subjectName}: ${sub.status} ${clip(sub.text)}`,
    `etcd:  ${ref.status} ${clip(ref.text)}`,
  ].join('\n');
}

export async function runDiff(o: DiffOptions): Promise<DiffSummary> {
  const rng = new Rng(o.seed);
  const generator = new KvOpGenerator(rng, new Encoder(rng, o.plain), o.ops);
  const state: DiffState = { revision: 1n, compactRevision: 0n };
  const summary: DiffSummary = { ops: 0, byKind: {}, referenceErrors: 0, finalRevision: 0n };
  const mismatches: string[] = [];
  const maxMismatches = Math.max(1, o.maxMismatches ?? 1);
  for (let i = 0; i < o.ops; i++) {
    const op = generator.next(i, state);
    const [sub, ref] = await Promise.all([gw(o.subjectUrl, op.path, op.body), gw(o.referenceUrl, op.path, op.body)]);
    if (o.trace === true) {
      console.log(`[${i}] ${op.kind} ${op.path} ${op.body.slice(0, maxTraceBodyChars)}\n   -> ${ref.status} ${ref.text.slice(0, maxTraceBodyChars)}`);
    }
    const diff = compareResponses(op, sub, ref);
    if (diff !== null) {
      mismatches.push(report(o, i, op, sub, ref, diff));
      if (mismatches.length >= maxMismatches) break;
    }
    applyToState(state, op, ref);
    summary.ops++;
    summary.byKind[op.kind] = (summary.byKind[op.kind] ?? 0) + 1;
    if (ref.status !== 200) summary.referenceErrors++;
  }
  if (mismatches.length > 0) {
    throw new Error(`${mismatches.length} mismatch(es), seed ${o.seed}:\n\n${mismatches.join('\n\n')}`);
  }
  summary.finalRevision = state.revision;
  return summary;
}
