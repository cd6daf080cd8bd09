/**
 * Translation of etcd's watch messages on the JSON gateway: `WatchRequest` (create, cancel,
 * progress) in, `WatchResponse` out, with etcd's zero-value omission (no `type` on PUT events, no
 * `watch_id` for watch 0, a compaction cancel whose header has no revision) and etcd's
 * fragmentation of responses larger than the request limit.
 *
 * Pure translation: no server calls, no HTTP.
 */
import { CairnError } from '../../errors/errors.js';
import type { Event } from '../../mvcc/types.js';
import type { ResponseHeader } from '../../server/cairn-server.js';
import { goJsonKind } from './json-body.js';
import { boolIn, bytesIn, headerOut, kvOut, type Json } from './kv-codec.js';
import { int64Checked } from './lease-codec.js';

export interface WatchCreate {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  startRevision: bigint;
  progressNotify: boolean;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  /** 0n: the stream picks one. */
  watchId: bigint;
  fragment: boolean;
}

export type WatchRequest =
  | { create: WatchCreate }
  | { cancel: { watchId: bigint } }
  | { progress: true }
  | { none: true };

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** Go's decoder errors for a value of the wrong JSON type. */
function expect(v: unknown, kinds: string[], goType: string): void {
  if (v === undefined || v === null) return;
  const k = goJsonKind(v);
  if (!kinds.includes(k)) throw new CairnError('BadRequest', `json: cannot unmarshal ${k} into Go value of type ${goType}`);
}

const FILTERS = ['NOPUT', 'NODELETE'] as const;

function filtersIn(v: unknown): { noPut: boolean; noDelete: boolean } {
  expect(v, ['array'], '[]etcdserverpb.WatchCreateRequest_FilterType');
  const out = { noPut: false, noDelete: false };
  for (const f of (v as unknown[] | undefined) ?? []) {
    const name = typeof f === 'number' ? FILTERS[f] : f;
    if (name === 'NOPUT') out.noPut = true;
    else if (name === 'NODELETE') out.noDelete = true;
    else if (typeof f !== 'number') {
      throw new CairnError('BadRequest', `unknown value ${JSON.stringify(f)} for enum etcdserverpb.WatchCreateRequest_FilterType`);
    }
  }
  return out;
}

function createIn(b: Json): WatchCreate {
  expect(b.key, ['string'], '[]uint8');
  expect(b.range_end, ['string'], '[]uint8');
  for (const f of ['progress_notify', 'prev_kv', 'fragment']) expect(b[f], ['bool'], 'bool');
  return {
    key: bytesIn(b.key),
    rangeEnd: bytesIn(b.range_end),
    startRevision: int64Checked(b.start_revision),
    progressNotify: boolIn(b.progress_notify),
    prevKv: boolIn(b.prev_kv),
    watchId: int64Checked(b.watch_id),
    fragment: boolIn(b.fragment),
    ...filtersIn(b.filters),
  };
}

export function watchRequestIn(body: Json): WatchRequest {
  if (body.create_request != null) {
    expect(body.create_request, ['object'], 'etcdserverpb.WatchCreateRequest');
    return { create: createIn(obj(body.create_request)) };
  }
  if (body.cancel_request != null) {
    expect(body.cancel_request, ['object'], 'etcdserverpb.WatchCancelRequest');
    const c = obj(body.cancel_request);
    return { cancel: { watchId: int64Checked(c.watch_id) } };
  }
  if (body.progress_request != null) return { progress: true };
  return { none: true };
}

// ---- output ----

/** etcd omits a zero revision; the compaction cancel's header has none. */
export function watchHeaderOut(h: ResponseHeader): Json {
  const o = headerOut(h);
  if (h.revision === 0n) delete o.revision;
  return o;
}

function withId(o: Json, watchId: bigint): Json {
  if (watchId !== 0n) o.watch_id = watchId.toString();
  return o;
}

export function eventOut(e: Event, prevKv: boolean): Json {
  const o: Json = {};
  if (e.type === 'DELETE') o.type = 'DELETE';
  o.kv = kvOut(e.kv);
  if (prevKv && e.prevKv) o.prev_kv = kvOut(e.prevKv);
  return o;
}

export function createdOut(h: ResponseHeader, watchId: bigint): Json {
  return { header: watchHeaderOut(h), ...withId({}, watchId), created: true };
}

/** A create refused (duplicate ID, limits): etcd's shape, watch_id -1. */
export function createRefusedOut(h: ResponseHeader, reason: string): Json {
  return { header: watchHeaderOut(h), watch_id: '-1', created: true, canceled: true, cancel_reason: reason };
}

export function canceledOut(h: ResponseHeader, watchId: bigint, reason?: string): Json {
  const o = withId({ header: watchHeaderOut(h) }, watchId);
  o.canceled = true;
  if (reason) o.cancel_reason = reason;
  return o;
}

export function compactedOut(h: ResponseHeader, watchId: bigint, compactRevision: bigint): Json {
  const o = withId({ header: watchHeaderOut({ ...h, revision: 0n }) }, watchId);
  o.canceled = true;
  o.compact_revision = compactRevision.toString();
  return o;
}

export function progressOut(h: ResponseHeader, watchId: bigint): Json {
  return withId({ header: watchHeaderOut(h) }, watchId);
}

/** Bytes an event adds to a response, close to its protobuf size (what etcd compares). */
function eventSizeBytes(e: Event, prevKv: boolean): number {
  const kvBytes = (kv: Event['kv']) => kv.key.length + kv.value.length + 40;
  return 4 + kvBytes(e.kv) + (prevKv && e.prevKv ? kvBytes(e.prevKv) : 0);
}

/**
 * The events responses for one delivery: one response, or (when the watcher asked for
 * fragments and it is over `maxResponseBytes`) several, each under the limit except for a single
 * event that is larger on its own, all but the last marked `fragment`, as etcd does.
 */
export function eventsOut(
  h: ResponseHeader, watchId: bigint, events: Event[], opts: { prevKv: boolean; fragment: boolean; maxResponseBytes: number },
): Json[] {
  const whole = (evs: Event[], fragment: boolean): Json => {
    const o = withId({ header: watchHeaderOut(h) }, watchId);
    o.events = evs.map((e) => eventOut(e, opts.prevKv));
    if (fragment) o.fragment = true;
    return o;
  };
  const sizes = events.map((e) => eventSizeBytes(e, opts.prevKv));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!opts.fragment || events.length < 2 || total < opts.maxResponseBytes) return [whole(events, false)];
  const out: Json[] = [];
  let from = 0;
  while (from < events.length) {
    let to = from + 1;
    let bytes = sizes[from];
    while (to < events.length && bytes + sizes[to] < opts.maxResponseBytes) bytes += sizes[to++];
    out.push(whole(events.slice(from, to), to < events.length));
    from = to;
  }
  return out;
}
