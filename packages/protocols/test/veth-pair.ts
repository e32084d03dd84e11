// Two network namespaces joined by one veth, for live-capture tests: tcpreplay writes a capture's
// frames into one end, tcpdump listens on the other. Nothing is routed anywhere: the namespaces
// have no other interface and no default route. Used by the protocols, detect and cli tests.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Why live-capture tests cannot run here, or undefined when they can. */
export function liveCaptureUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root (network namespaces and capture need it)';
  for (const tool of ['ip', 'tcpdump', 'tcpreplay']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed${tool === 'tcpreplay' ? ' (Debian: apt-get install tcpreplay)' : ''}`;
    }
  }
  return undefined;
}

/** Skips with a printed reason, or fails in CI, when live capture is unavailable. */
export function liveCaptureSkipReason(what: string): string | undefined {
  const reason = liveCaptureUnavailable();
  if (reason === undefined) return undefined;
  if (process.env.CI) throw new Error(`${what} cannot run in CI: ${reason}`);
  console.log(`skipping ${what}: ${reason}`);
  return reason;
}

export interface VethPair {
  /** The end tcpdump listens on, in `captureNamespace`. */
  readonly captureInterface: string;
  readonly captureNamespace: string;
  /** Runs a command in the capture namespace: `[...inCapture, 'tcpdump']`. */
  readonly inCapture: readonly string[];
  /** Writes a capture file's frames into the other end; resolves with tcpreplay's counts. */
  replay(file: string, multiplier?: number): Promise<{ sent: number; failed: number }>;
  /** Deletes both namespaces (and with them the veth). */
  remove(): void;
}

/** Creates the pair with unique names; `tag` (a few letters) says which test made it. */
export function createVethPair(tag: string): VethPair {
  const id = `${tag}${randomBytes(3).toString('hex')}`.slice(0, 12);
  const captureNamespace = `palisade-${id}-cap`;
  const replayNamespace = `palisade-${id}-rep`;
  const captureInterface = `v${id}c`;
  const replayInterface = `v${id}r`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const remove = () => {
    const left = (): string[] => {
      const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
      return [captureNamespace, replayNamespace].filter((ns) => new RegExp(`^${ns}( |$)`, 'm').test(list));
    };
    // A namespace a process is just leaving can be busy for a moment.
    for (let attempt = 0; attempt < 20 && left().length > 0; attempt++) {
      for (const ns of left()) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      if (left().length > 0) execFileSync('sleep', ['0.1']);
    }
    const still = left();
    if (still.length > 0) throw new Error(`could not delete network namespaces ${still.join(', ')}`);
  };
  try {
    ip('netns', 'add', captureNamespace);
    ip('netns', 'add', replayNamespace);
    ip('link', 'add', captureInterface, 'type', 'veth', 'peer', 'name', replayInterface);
    ip('link', 'set', captureInterface, 'netns', captureNamespace);
    ip('link', 'set', replayInterface, 'netns', replayNamespace);
    for (const [ns, dev, address] of [
      [captureNamespace, captureInterface, '10.199.0.1/30'],
      [replayNamespace, replayInterface, '10.199.0.2/30'],
    ] as const) {
      ip('-n', ns, 'addr', 'add', address, 'dev', dev);
      // The lab capture was recorded with segmentation offload: frames up to 19 kB.
      ip('-n', ns, 'link', 'set', dev, 'mtu', '65535');
      // No IPv6 on the veth: no router solicitations in the capture.
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (e) {
    remove();
    throw e;
  }
  return {
    captureInterface,
    captureNamespace,
    inCapture: ['ip', 'netns', 'exec', captureNamespace],
    replay(file, multiplier = 4) {
      return new Promise((resolve, reject) => {
        const child = spawn(
          'ip',
          [
            'netns',
            'exec',
            replayNamespace,
            'tcpreplay',
            '-i',
            replayInterface,
            `--multiplier=${multiplier}`,
            file,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
        });
        child.stderr.on('data', (b: Buffer) => {
          out += b.toString();
        });
        child.on('error', reject);
        child.on('close', (code) => {
          const sent = /Successful packets:\s+(\d+)/.exec(out)?.[1];
          const failed = /Failed packets:\s+(\d+)/.exec(out)?.[1];
          if (code !== 0 || sent === undefined || failed === undefined)
            reject(new Error(`tcpreplay exited with code ${code}: ${out}`));
          else resolve({ sent: Number(sent), failed: Number(failed) });
        });
      });
    },
    remove,
  };
}
