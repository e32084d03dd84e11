// Live capture with tcpdump: its stderr as the real tcpdump writes it (fixtures), the default
// filter as tcpdump compiles it, the errors for a bad filter, interface or permission, and a
// capture of the lab recording replayed across a veth pair (as root, with tcpreplay).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CapturedFrame,
  CaptureError,
  dcCaptureFilter,
  LiveCapture,
  type LiveCaptureEvent,
  parseTcpdumpStderr,
  readCapture,
} from '../src/index.ts';
import { createVethPair, liveCaptureSkipReason, liveCaptureUnavailable, type VethPair } from './veth-pair.ts';

const fixtures = resolve(import.meta.dirname, '../fixtures/tcpdump-stderr');
const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const labPcap = resolve(
  import.meta.dirname,
  '../../../../shared/corpus/testbed-samples/testbed-default.pcap',
);

const listening = {
  kind: 'listening',
  interface: 'pcxva',
  linkType: 'EN10MB',
  snapLength: 262_144,
} as const;

describe("tcpdump's stderr", () => {
  it('reads the SIGUSR1 reports and the exit counters', () => {
    expect(parseTcpdumpStderr(fixture('stats-usr1-final.txt'))).toEqual([
      listening,
      {
        kind: 'counters',
        counters: { captured: 889, receivedByFilter: 894, droppedByKernel: 5, droppedByInterface: 0 },
        final: false,
      },
      {
        kind: 'counters',
        counters: { captured: 1783, receivedByFilter: 1788, droppedByKernel: 5, droppedByInterface: 0 },
        final: false,
      },
      {
        kind: 'counters',
        counters: { captured: 1783, receivedByFilter: 1788, droppedByKernel: 5, droppedByInterface: 0 },
        final: true,
      },
    ]);
  });

  it('reads kernel drops, and "packet" in the singular', () => {
    expect(parseTcpdumpStderr(fixture('stats-drops.txt')).slice(1)).toEqual([
      {
        kind: 'counters',
        counters: { captured: 1424, receivedByFilter: 5340, droppedByKernel: 3916, droppedByInterface: 0 },
        final: false,
      },
      {
        kind: 'counters',
        counters: { captured: 1424, receivedByFilter: 5340, droppedByKernel: 3916, droppedByInterface: 0 },
        final: true,
      },
    ]);
    expect(
      parseTcpdumpStderr(fixture('stats-singular.txt')).map((e) => e.kind === 'counters' && e.counters),
    ).toEqual([
      false,
      { captured: 0, receivedByFilter: 0, droppedByKernel: 0, droppedByInterface: 0 },
      { captured: 1, receivedByFilter: 1, droppedByKernel: 0, droppedByInterface: 0 },
      { captured: 1, receivedByFilter: 1, droppedByKernel: 0, droppedByInterface: 0 },
    ]);
  });

  it('reads interface drops in both forms (written from tcpdump.c info(), which prints them only when not 0)', () => {
    const text = [
      'tcpdump: 10 packets captured, 14 packets received by filter, 3 packets dropped by kernel, 1 packet dropped by interface',
      '10 packets captured',
      '14 packets received by filter',
      '3 packets dropped by kernel',
      '7 packets dropped by interface',
    ].join('\n');
    expect(parseTcpdumpStderr(text)).toEqual([
      {
        kind: 'counters',
        counters: { captured: 10, receivedByFilter: 14, droppedByKernel: 3, droppedByInterface: 1 },
        final: false,
      },
      {
        kind: 'counters',
        counters: { captured: 10, receivedByFilter: 14, droppedByKernel: 3, droppedByInterface: 7 },
        final: true,
      },
    ]);
  });

  it('reads an error while capturing, followed by the exit counters', () => {
    expect(parseTcpdumpStderr(fixture('error-interface-disappeared.txt'))).toEqual([
      { ...listening, interface: 'pcxvc' },
      { kind: 'message', text: 'tcpdump: pcap_loop: The interface disappeared' },
      {
        kind: 'counters',
        counters: { captured: 0, receivedByFilter: 0, droppedByKernel: 0, droppedByInterface: 0 },
        final: true,
      },
    ]);
  });

  it('passes error lines through as messages', () => {
    expect(parseTcpdumpStderr(fixture('error-no-device.txt'))).toEqual([
      { kind: 'message', text: 'tcpdump: pcxnosuch0: No such device exists' },
      { kind: 'message', text: '(No such device exists)' },
    ]);
    expect(parseTcpdumpStderr(fixture('error-permission.txt'))).toEqual([
      {
        kind: 'message',
        text: "tcpdump: pcxva: You don't have permission to perform this capture on that device",
      },
      { kind: 'message', text: '(socket: Operation not permitted)' },
    ]);
  });
});

const haveTcpdump = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v tcpdump'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI) throw new Error('live capture tests cannot run in CI: tcpdump is not installed');
    console.log('skipping tcpdump filter tests: tcpdump is not installed');
    return false;
  }
})();

describe('the default domain controller filter', () => {
  it('keeps the service ports, later fragments, and the dynamic RPC ports of the DC only', () => {
    expect(dcCaptureFilter(['10.0.0.10', 'fd00::10'])).toBe(
      [
        'port 53 or port 88 or port 135 or portrange 137-139 or port 389 or port 445 or port 464',
        'or port 636 or port 3268 or port 3269 or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)',
        'or (tcp dst portrange 49152-65535 and dst host 10.0.0.10) or (tcp src portrange 49152-65535 and src host 10.0.0.10)',
        'or (tcp dst portrange 49152-65535 and dst host fd00::10) or (tcp src portrange 49152-65535 and src host fd00::10)',
      ].join(' '),
    );
  });

  it.skipIf(!haveTcpdump)('compiles with tcpdump', () => {
    for (const filter of [dcCaptureFilter(), dcCaptureFilter(['10.0.0.10', 'fd00::10'])])
      expect(
        execFileSync('tcpdump', ['-d', filter], { stdio: ['ignore', 'pipe', 'ignore'] }).length,
      ).toBeGreaterThan(0);
  });
});

async function captureError(start: Promise<LiveCapture>): Promise<CaptureError> {
  try {
    const capture = await start;
    await capture.stop();
  } catch (e) {
    if (e instanceof CaptureError) return e;
    throw e;
  }
  throw new Error('the capture started');
}

describe.skipIf(!haveTcpdump)('errors before a capture starts', () => {
  it('names the filter and quotes tcpdump for a bad filter, without needing root', async () => {
    const e = await captureError(LiveCapture.start({ interface: 'lo', filter: 'port 88 and' }));
    expect([e.code, e.message]).toEqual([
      'capture/bad-filter',
      "bad capture filter 'port 88 and': tcpdump: can't parse filter expression: syntax error",
    ]);
  });

  it('says when tcpdump cannot be run', async () => {
    const e = await captureError(LiveCapture.start({ interface: 'lo', command: ['/nonexistent/tcpdump'] }));
    expect([e.code, e.message]).toEqual([
      'capture/tcpdump-not-found',
      'cannot run /nonexistent/tcpdump: spawn /nonexistent/tcpdump ENOENT; live capture needs tcpdump (Debian: apt-get install tcpdump)',
    ]);
  });

  it.skipIf(liveCaptureUnavailable() !== undefined)('names a missing interface', async () => {
    const e = await captureError(LiveCapture.start({ interface: 'nosuch0' }));
    expect([e.code, e.message]).toEqual([
      'capture/bad-interface',
      'cannot capture on interface nosuch0: tcpdump: nosuch0: No such device exists (No such device exists)',
    ]);
  });

  it.skipIf(liveCaptureUnavailable() !== undefined)('says when the user may not capture', async () => {
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'tcpdump'];
    const e = await captureError(LiveCapture.start({ interface: 'lo', command: nobody }));
    expect([e.code, e.message]).toEqual([
      'capture/permission-denied',
      "no permission to capture on lo (run as root, or give tcpdump CAP_NET_RAW and CAP_NET_ADMIN): tcpdump: lo: You don't have permission to perform this capture on that device (socket: Operation not permitted)",
    ]);
  });
});

const skipLive = existsSync(labPcap)
  ? liveCaptureSkipReason('live capture test')
  : `no lab capture at ${labPcap}`;

describe.skipIf(skipLive !== undefined)('a live capture of the lab recording replayed on a veth', () => {
  let veth: VethPair;
  beforeAll(() => {
    veth = createVethPair('pr');
  });
  afterAll(() => veth?.remove());

  it("captures every DC frame, reports tcpdump's counters periodically and at the end", async () => {
    const events: LiveCaptureEvent[] = [];
    const capture = await LiveCapture.start({
      interface: veth.captureInterface,
      dcAddresses: ['10.99.0.10'],
      command: [...veth.inCapture, 'tcpdump'],
      bufferSizeKiB: 8192,
      statsIntervalMs: 300,
      onEvent: (e) => events.push(e),
    });
    const frames: CapturedFrame[] = [];
    const reading = (async () => {
      for await (const frame of capture) frames.push(frame);
    })();
    const replayed = await veth.replay(labPcap);
    expect(replayed).toEqual({ sent: 1780, failed: 0 });
    // Until tcpdump has reported every packet the replay sent through the filter.
    for (let i = 0; i < 50 && (capture.stats().tcpdump?.receivedByFilter ?? 0) < 1778; i++)
      await new Promise((r) => setTimeout(r, 100));
    const stats = await capture.stop();
    await reading;

    // Every frame of the recording but its two ARP frames, byte for byte.
    const file = [...readCapture(readFileSync(labPcap)).frames].filter(
      (f) => f.data[12] !== 0x08 || f.data[13] !== 0x06,
    );
    expect(frames.map((f) => Buffer.from(f.data).toString('hex'))).toEqual(
      file.map((f) => Buffer.from(f.data).toString('hex')),
    );
    const bytes = file.reduce((n, f) => n + f.data.length, 0);
    const dropped = stats.tcpdump?.droppedByKernel ?? -1;
    console.log(`live capture: ${stats.frames} frames, ${stats.bytes} bytes, ${dropped} dropped by kernel`);
    expect(stats).toEqual({
      frames: 1778,
      bytes,
      tcpdump: {
        captured: 1778,
        receivedByFilter: 1778 + dropped,
        droppedByKernel: dropped,
        droppedByInterface: 0,
      },
      final: true,
    });
    expect(dropped).toBe(0);
    expect(events[0]).toEqual({
      kind: 'listening',
      interface: veth.captureInterface,
      linkType: 'EN10MB',
      snapLength: 262_144,
    });
    const reports = events.filter((e) => e.kind === 'stats');
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports.at(-1)).toEqual({ kind: 'stats', stats });
    expect(reports.filter((e) => !e.stats.final).length).toBe(reports.length - 1);
    expect(events.filter((e) => e.kind === 'message')).toEqual([]);
  });

  it("fails with tcpdump's message when the interface disappears", async () => {
    const doomed = createVethPair('pg');
    try {
      const capture = await LiveCapture.start({
        interface: doomed.captureInterface,
        command: [...doomed.inCapture, 'tcpdump'],
        statsIntervalMs: 0,
      });
      const reading = (async () => {
        for await (const _frame of capture);
      })();
      doomed.remove();
      const e = await reading.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toBeInstanceOf(CaptureError);
      expect([(e as CaptureError).code, (e as CaptureError).message]).toEqual([
        'capture/tcpdump-failed',
        `tcpdump on ${doomed.captureInterface} exited with code 1: tcpdump: pcap_loop: The interface disappeared`,
      ]);
      expect((await capture.stop()).final).toBe(true);
    } finally {
      doomed.remove();
    }
  });

  it('stops cleanly when nothing reads the frames', async () => {
    const capture = await LiveCapture.start({
      interface: veth.captureInterface,
      filter: 'udp port 53',
      command: [...veth.inCapture, 'tcpdump'],
      statsIntervalMs: 0,
    });
    await veth.replay(labPcap, 16);
    const stats = await capture.stop();
    expect(stats.final).toBe(true);
    expect(stats.tcpdump?.captured).toBe(2);
  });
});
