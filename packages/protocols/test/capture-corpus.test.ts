// The two lab captures against tshark: every frame's IP protocol, ports and TCP payload length,
// and every TCP stream's reassembled bytes in each direction (length and SHA-256). Needs the
// shared corpus and tshark; skips with a reason without them (and fails in CI).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeIp,
  decodeLinkLayer,
  decodeTcp,
  decodeUdp,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  readCapture,
  readFlows,
} from '../src/index.ts';

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');
const files = ['testbed-default.pcap', 'testbed-smb21-cleartext.pcap'];

function missing(): string | undefined {
  if (!existsSync(join(corpus, files[0] as string))) return `lab captures not found at ${corpus}`;
  if (spawnSync('tshark', ['--version']).error) return 'tshark is not installed (Debian package tshark)';
  return undefined;
}

const reason = missing();
if (reason) {
  if (process.env.CI) throw new Error(`capture corpus test cannot run in CI: ${reason}`);
  console.log(`skipping tshark comparison: ${reason}`);
}

function tshark(args: string[]): string {
  const run = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

/** Per frame: IP protocol, source and destination port, TCP payload length; '' where absent. */
function framesByTshark(path: string): string[] {
  // tshark -r FILE -T fields -E separator=/t -E occurrence=f -e ip.proto -e tcp.srcport
  //   -e tcp.dstport -e udp.srcport -e udp.dstport -e tcp.len
  const out = tshark([
    '-r',
    path,
    '-T',
    'fields',
    '-E',
    'separator=/t',
    '-E',
    'occurrence=f',
    ...['ip.proto', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'tcp.len'].flatMap((f) => [
      '-e',
      f,
    ]),
  ]);
  return out
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [proto = '', ts = '', td = '', us = '', ud = '', len = ''] = line.split('\t');
      return [proto, ts || us, td || ud, len].join(' ');
    });
}

function framesByUs(bytes: Uint8Array): string[] {
  const rows: string[] = [];
  for (const frame of readCapture(bytes).frames) {
    const link = decodeLinkLayer(frame.linkType, frame.data);
    if (link.kind === 'other') {
      rows.push('   ');
      continue;
    }
    const ip = decodeIp(link.payload);
    if (ip.protocol === IP_PROTOCOL_TCP) {
      const tcp = decodeTcp(ip.payload);
      rows.push(`${ip.protocol} ${tcp.srcPort} ${tcp.dstPort} ${tcp.payload.length}`);
    } else if (ip.protocol === IP_PROTOCOL_UDP) {
      const udp = decodeUdp(ip.payload);
      rows.push(`${ip.protocol} ${udp.srcPort} ${udp.dstPort} `);
    } else {
      rows.push(`${ip.protocol}   `);
    }
  }
  return rows;
}

interface StreamSummary {
  /** `client ip:port ⇄ server ip:port`, endpoints in text order so both tools agree. */
  pair: string;
  /** Per endpoint that sent it: `ip:port → bytes sha256-prefix`. */
  sent: string[];
}

function summarise(pair: [string, string], byEndpoint: Map<string, Uint8Array[]>): StreamSummary {
  const ends = [...pair].sort();
  return {
    pair: ends.join(' ⇄ '),
    sent: ends.map((end) => {
      const chunks = byEndpoint.get(end) ?? [];
      const hash = createHash('sha256');
      let length = 0;
      for (const c of chunks) {
        hash.update(c);
        length += c.length;
      }
      return `${end} → ${length} bytes ${hash.digest('hex').slice(0, 16)}`;
    }),
  };
}

/** Every TCP stream's bytes per direction, from tshark's Follow TCP Stream. */
function streamsByTshark(path: string): StreamSummary[] {
  const ids = new Set(
    tshark(['-r', path, '-Y', 'tcp', '-T', 'fields', '-e', 'tcp.stream']).trimEnd().split('\n').map(Number),
  );
  // tshark -r FILE -q -z follow,tcp,raw,0 -z follow,tcp,raw,1 … (one -z per stream id)
  const out = tshark(['-r', path, '-q', ...[...ids].flatMap((id) => ['-z', `follow,tcp,raw,${id}`])]);
  const summaries: StreamSummary[] = [];
  for (const block of out.split('Follow: tcp,raw').slice(1)) {
    const lines = block.split('\n');
    const node0 = /Node 0: (.*)$/m.exec(block)?.[1] ?? '';
    const node1 = /Node 1: (.*)$/m.exec(block)?.[1] ?? '';
    const sent = new Map<string, Uint8Array[]>();
    // Node 1's data is indented by a tab; node 0's is not.
    for (const line of lines) {
      if (!/^\t?[0-9a-f]+$/.test(line)) continue;
      const from = line.startsWith('\t') ? node1 : node0;
      const list = sent.get(from) ?? [];
      list.push(Buffer.from(line.trim(), 'hex'));
      sent.set(from, list);
    }
    summaries.push(summarise([node0, node1], sent));
  }
  return summaries.sort(byPair);
}

function streamsByUs(bytes: Uint8Array): { streams: StreamSummary[]; diagnostics: string[] } {
  const reading = readFlows(bytes);
  const open = new Map<number, Map<string, Uint8Array[]>>();
  const streams: StreamSummary[] = [];
  for (const item of reading.items) {
    if (item.kind === 'udp') continue;
    const { client, server } = item.flow;
    const c = `${client.ip}:${client.port}`;
    const s = `${server.ip}:${server.port}`;
    if (item.kind === 'open') open.set(item.flow.id, new Map());
    if (item.kind === 'data') {
      const sent = open.get(item.flow.id);
      const from = item.direction === 'toServer' ? c : s;
      const list = sent?.get(from) ?? [];
      list.push(item.bytes);
      sent?.set(from, list);
    }
    if (item.kind === 'gap') throw new Error(`unexpected gap in ${c} ⇄ ${s}`);
    if (item.kind === 'close') streams.push(summarise([c, s], open.get(item.flow.id) ?? new Map()));
  }
  return { streams: streams.sort(byPair), diagnostics: reading.diagnostics.map((d) => d.message) };
}

function byPair(a: StreamSummary, b: StreamSummary): number {
  return a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : a.sent.join() < b.sent.join() ? -1 : 1;
}

describe.skipIf(reason !== undefined).each(files)('%s against tshark', (name) => {
  const path = join(corpus, name);
  const bytes = readFileSync(path);

  it('decodes every frame to the same protocol, ports and TCP payload length', () => {
    const ours = framesByUs(bytes);
    const theirs = framesByTshark(path);
    expect(ours.length).toBe(theirs.length);
    expect(ours).toEqual(theirs);
  });

  it('reassembles every TCP stream to the bytes tshark follows, with no diagnostics', () => {
    const ours = streamsByUs(bytes);
    const theirs = streamsByTshark(path);
    expect(ours.diagnostics).toEqual([]);
    expect(ours.streams.length).toBe(theirs.length);
    expect(ours.streams).toEqual(theirs);
  });
});
