/**
 * Benchmark of the peer transport: small MsgApp-like messages from one PeerTransport to
 * another over loopback HTTP (both in this process, so the figure includes both ends' CPU).
 *
 * Owns: measuring messages/s and batches/s delivered to the receiving handler, and the
 * round-trip latency of a lone heartbeat-sized message. Must never: run unbounded — it stops
 * after `--duration` seconds (default 5) — or overfill the queue: the loop sends only while
 * the peer's queue holds less than `--window` messages, the way Raft's inflight limit
 * throttles a leader, so drops show a transport problem, not an impatient benchmark.
 *
 *   node --import tsx bench/transport.ts [--duration 5] [--per-call 64] [--bytes 64] [--window 4096]
 *   node dist/bench/transport.js
 * The last line is `BENCH_RESULT {json}` for bench/run.ts.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newMessage, MessageType, type Message } from '../src/raft/index.js';
import { createPeerServer, PeerTransport, type PeerServer } from '../src/transport/index.js';

interface BenchOptions {
  durationSec: number;
  perCall: number;
  entryBytes: number;
  window: number;
}

function parseArgs(argv: readonly string[]): BenchOptions {
  const opts: BenchOptions = { durationSec: 5, perCall: 64, entryBytes: 64, window: 4096 };
  for (let i = 0; i < argv.length; i++) {
    const next = (): number => Number(argv[++i]);
    switch (argv[i]) {
      case '--duration': opts.durationSec = next(); break;
      case '--per-call': opts.perCall = next(); break;
      case '--bytes': opts.entryBytes = next(); break;
      case '--window': opts.window = next(); break;
    }
  }
  return opts;
}

const SENDER = 0x1n;
const RECEIVER = 0x2n;
const CLUSTER = 0xbe7cn;
const LATENCY_SAMPLES = 200;

function appMessage(index: number, data: Uint8Array): Message {
  return {
    ...newMessage(MessageType.App, RECEIVER, SENDER, 3), index, logTerm: 3, commit: index,
    entries: [{ term: 3, index: index + 1, type: 'normal', data }],
  };
}

interface Pair {
  sender: PeerTransport;
  receiver: PeerTransport;
  server: PeerServer;
  received: { count: number; onMessage: (() => void) | null };
}

async function startPair(): Promise<Pair> {
  const received: Pair['received'] = { count: 0, onMessage: null };
  const receiver = new PeerTransport({ clusterId: CLUSTER, memberId: RECEIVER });
  const server = await createPeerServer({
    transport: receiver, listenUrls: ['http://127.0.0.1:0'],
    handler: {
      onMessages: (msgs) => { received.count += msgs.length; received.onMessage?.(); },
      onSnapshot: async () => {}, members: () => [],
    },
  });
  const sender = new PeerTransport({ clusterId: CLUSTER, memberId: SENDER });
  sender.addPeer(RECEIVER, [server.urls[0]]);
  return { sender, receiver, server, received };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function throughput(pair: Pair, opts: BenchOptions, seconds: number): Promise<{ messages: number; batches: number; seconds: number }> {
  const data = new Uint8Array(opts.entryBytes).fill(7);
  const startMessages = pair.received.count;
  const startBatches = pair.server.stats().receivedBatches;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let index = 0;
  while (performance.now() < deadline) {
    const queued = pair.sender.stats().peers.get(RECEIVER)?.queuedMessages ?? 0;
    if (queued < opts.window) {
      const batch = new Array<Message>(opts.perCall);
      for (let i = 0; i < opts.perCall; i++) batch[i] = appMessage(index++, data);
      pair.sender.send(batch);
    }
    await turn();
  }
  return {
    messages: pair.received.count - startMessages,
    batches: pair.server.stats().receivedBatches - startBatches,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Median and p99 of one message's trip to the receiving handler, pipeline otherwise idle. */
async function latency(pair: Pair): Promise<{ p50Ms: number; p99Ms: number }> {
  const data = new Uint8Array(8);
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const arrived = new Promise<void>((r) => { pair.received.onMessage = r; });
    const t0 = performance.now();
    pair.sender.send([appMessage(i, data)]);
    await arrived;
    samples.push(performance.now() - t0);
  }
  pair.received.onMessage = null;
  samples.sort((a, b) => a - b);
  const at = (q: number): number => Number(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))].toFixed(3));
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

export async function main(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv);
  const pair = await startPair();
  try {
    await throughput(pair, opts, Math.min(0.5, opts.durationSec / 5)); // warm-up
    const lat = await latency(pair);
    const r = await throughput(pair, opts, opts.durationSec);
    const stats = pair.sender.stats().peers.get(RECEIVER);
    const result = {
      name: 'transport', messagesPerSec: Math.round(r.messages / r.seconds), batchesPerSec: Math.round(r.batches / r.seconds),
      messagesPerBatch: Number((r.messages / Math.max(1, r.batches)).toFixed(1)), seconds: Number(r.seconds.toFixed(2)),
      perCall: opts.perCall, entryBytes: opts.entryBytes, droppedMessages: stats?.droppedMessages ?? 0,
      lostMessages: stats?.lostMessages ?? 0, latencyP50Ms: lat.p50Ms, latencyP99Ms: lat.p99Ms,
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
    console.log(`transport: ${result.messagesPerSec.toLocaleString('en-US')} messages/s in ${result.batchesPerSec.toLocaleString('en-US')} ` +
      `batches/s (${result.messagesPerBatch} per batch; MsgApp with one ${opts.entryBytes} B entry, ${opts.perCall} per send() call, ` +
      `loopback, both ends in one process); one message alone: p50 ${lat.p50Ms} ms, p99 ${lat.p99Ms} ms; ` +
      `${result.droppedMessages} dropped`);
    console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  } finally {
    pair.sender.close();
    pair.receiver.close();
    await pair.server.close();
  }
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
