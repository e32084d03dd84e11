// `palisade capture` through `run` and `runCapture`: help, command-line mistakes, tcpdump's
// own errors for a bad filter or interface, and (as root, with tcpreplay) a capture of the lab
// recording replayed across a veth pair, stopped like Ctrl-C, with its alerts and counters.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Alert, compileRuleSet, identityDetectors, scanFiles } from '@palisade/detect';
import { normaliseCapture } from '@palisade/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVethPair,
  liveCaptureSkipReason,
  liveCaptureUnavailable,
  type VethPair,
} from '../../protocols/test/veth-pair.ts';
import { runCapture } from '../src/capture-command.ts';
import { run } from '../src/index.ts';
import { memoryOutput } from './memory-output.ts';

const pcap = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples/testbed-default.pcap');

const haveTcpdump = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v tcpdump'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error('capture CLI tests cannot run in CI: tcpdump is not installed');
    console.log('skipping capture CLI tests that run tcpdump: tcpdump is not installed');
    return false;
  }
})();

describe('palisade capture', () => {
  it('prints its help', async () => {
    const out = memoryOutput();
    expect(await run(['capture', '--help'], out)).toBe(0);
    expect(out.stdout).toMatch(/^usage: palisade capture --interface IFACE \[--filter BPF\]/);
    expect(out.stdout).toContain('--dc-address VALUE');
    expect(out.stdout).toContain('dropped by kernel and dropped by interface');
    expect(await run(['--help'], out)).toBe(0);
    expect(out.stdout).toMatch(/\n {2}capture +capture a domain controller's traffic live/);
  });

  it.each([
    [[], 'palisade capture: --interface is required (the interface facing the domain controller, e.g. eth0)'],
    [['eth0'], "palisade capture: unexpected argument 'eth0'; give the interface with --interface"],
    [
      ['-i', 'eth0', '--dc-address', 'dc1.corp'],
      "palisade capture: --dc-address must be an IPv4 or IPv6 address, not 'dc1.corp'",
    ],
    [
      ['-i', 'eth0', '--filter', 'port 88', '--dc-address', '10.0.0.1'],
      'palisade capture: --dc-address shapes the default filter; with --filter, put the addresses in the filter',
    ],
    [
      ['-i', 'eth0', '--stats-interval', 'often'],
      "palisade capture: --stats-interval must be a number of seconds (0 for only at the end), not 'often'",
    ],
    [
      ['-i', 'eth0', '--buffer-size', '1.5'],
      "palisade capture: --buffer-size must be a whole number of KiB, not '1.5'",
    ],
  ])('rejects %j with exit code 2', async (args, message) => {
    const out = memoryOutput();
    expect(await run(['capture', ...args], out)).toBe(2);
    expect(out.stderr).toEqual([message]);
  });

  it.skipIf(!haveTcpdump)('quotes tcpdump for a bad filter, and exits 2', async () => {
    const out = memoryOutput();
    expect(await run(['capture', '-i', 'lo', '--filter', 'tcp port kerberos and'], out)).toBe(2);
    expect(out.stderr).toEqual([
      "palisade capture: bad capture filter 'tcp port kerberos and': tcpdump: can't parse filter expression: syntax error",
    ]);
  });

  it.skipIf(!haveTcpdump || liveCaptureUnavailable() !== undefined)(
    'names a missing interface, and exits 2',
    async () => {
      const out = memoryOutput();
      expect(await run(['capture', '-i', 'nosuch0'], out)).toBe(2);
      expect(out.stderr).toEqual([
        'palisade capture: cannot capture on interface nosuch0: tcpdump: nosuch0: No such device exists (No such device exists)',
      ]);
    },
  );
});

const skipLive = existsSync(pcap)
  ? liveCaptureSkipReason('capture CLI live test')
  : `no lab capture at ${pcap}`;

describe.skipIf(skipLive !== undefined)('palisade capture on the lab recording replayed on a veth', () => {
  let veth: VethPair;
  let dir: string;
  beforeAll(() => {
    veth = createVethPair('cl');
    dir = mkdtempSync(join(tmpdir(), 'palisade-capture-'));
  });
  afterAll(() => {
    veth?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the alerts as JSON lines, counters while it runs, and the final counters when stopped', async () => {
    const config = join(dir, 'identity.yml');
    writeFileSync(config, 'testMode: true\n');
    const output = join(dir, 'alerts.jsonl');
    const out = memoryOutput();
    const stop = new AbortController();
    const done = runCapture(
      [],
      {
        interface: veth.captureInterface,
        'dc-address': ['10.99.0.10'],
        'identity-config': config,
        format: 'json',
        output,
        'stats-interval': '0.5',
      },
      out,
      { signal: stop.signal, tcpdump: [...veth.inCapture, 'tcpdump'] },
    );
    // Until tcpdump listens (the first line on stderr), then the replay.
    for (let i = 0; i < 100 && out.stderr.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await veth.replay(pcap)).toEqual({ sent: 1780, failed: 0 });
    // Until a periodic report has counted every frame, then stop as Ctrl-C would.
    const counted = `capturing on ${veth.captureInterface}: 1778 frames`;
    for (let i = 0; i < 100 && !out.stderr.some((l) => l.startsWith(counted)); i++)
      await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    expect(await done).toBe(0);

    // The alerts a scan of the recording gives.
    const alerts = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert);
    const offline = await scanFiles([pcap], compileRuleSet([], { name: 'none', entries: [] }), {
      identity: { detectors: identityDetectors, config: { testMode: true } },
    });
    expect(alerts.map((a) => [a.externalId, a.description]).sort()).toEqual(
      offline.alerts.map((a) => [a.externalId, a.description]).sort(),
    );
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    const rows = normaliseCapture(readFileSync(pcap)).rows.length;
    expect(out.stdout).toBe('');
    expect(out.stderr[0]).toMatch(
      new RegExp(
        `^listening on ${veth.captureInterface} with filter: port 53 or port 88 or .* or \\(tcp src portrange 49152-65535 and src host 10\\.99\\.0\\.10\\)$`,
      ),
    );
    expect(out.stderr[1]).toBe(`identity detectors: ${identityDetectors.length} (test mode)`);
    expect(
      out.stderr.slice(2, -1).every((l) => l.startsWith(`capturing on ${veth.captureInterface}: `)),
    ).toBe(true);
    expect(out.stderr.length).toBeGreaterThan(3);
    expect(out.stderr.at(-1)).toBe(
      `capture stopped on ${veth.captureInterface}: 1778 frames, 428095 bytes, ${rows} identity rows, ${alerts.length} alerts; tcpdump: 1778 captured, 1778 received by filter, 0 dropped by kernel, 0 dropped by interface`,
    );
  });
});
