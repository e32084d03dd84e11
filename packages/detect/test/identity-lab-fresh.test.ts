// The identity lab run afresh (../shared/testbed/run-testbed.sh: a real Samba AD DC and real
// attacks between two network namespaces), once as is and once with SMB capped at 2.1, and
// both runs' capture and audit logs held to the recorded run's expectations
// (lab-expectations.ts). Needs root, the lab and its Debian packages; skips with a reason
// without them (and fails in CI). About 40 s.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  expectLabAlerts,
  type LabRun,
  type LabVariant,
  labScenarios,
  labVariants,
  readLabRun,
} from './lab-expectations.ts';

const script = resolve(import.meta.dirname, '../../../../shared/testbed/run-testbed.sh');

/** What each variant sets in the lab's environment. */
const variantEnv: Record<LabVariant, Record<string, string>> = {
  default: {},
  smb21: { TB_SMB_MAX_PROTOCOL: 'SMB2_10' },
};

/** One run takes about 16 s; this bounds a run whose DC never comes up. */
const RUN_LIMIT_MS = 240_000;

function missing(): string | undefined {
  if (!existsSync(script)) return `lab not found at ${script}`;
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, a DC on its ports)';
  // The lab's own package list, so that this check and the lab never disagree.
  const packages = /^PKGS="([^"]+)"/m.exec(readFileSync(script, 'utf8'))?.[1]?.split(' ');
  if (!packages) return `expected a line PKGS="..." in ${script}, found none`;
  const query = spawnSync('dpkg-query', ['-W', `-f=\${Package} \${Status}\n`, ...packages], {
    encoding: 'utf8',
  });
  if (query.error) return `dpkg-query not found (the lab needs Debian): ${query.error.message}`;
  const installed = new Set(
    query.stdout
      .split('\n')
      .filter((line) => line.endsWith(' install ok installed'))
      .map((line) => line.split(' ')[0]),
  );
  const absent = packages.filter((p) => !installed.has(p));
  return absent.length > 0
    ? `Debian packages missing: ${absent.join(' ')} (.ci/run installs them)`
    : undefined;
}

const reason = missing();
if (reason) {
  if (process.env.CI) throw new Error(`fresh lab test cannot run in CI: ${reason}`);
  console.log(`skipping fresh lab test: ${reason}`);
}

let running: ChildProcess | undefined;

/** Runs the lab into `out`; fails with its exit code and the end of its run.log. */
function runTestbed(out: string, env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('bash', [script, out], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: RUN_LIMIT_MS,
    });
    running = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-4000);
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      running = undefined;
      if (code === 0) return done();
      const log = join(out, 'run.log');
      const tail = existsSync(log)
        ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-30).join('\n')
        : '';
      fail(
        new Error(
          `expected run-testbed.sh ${out} to exit with 0, found ${code === null ? `signal ${signal}` : code}\n` +
            `--- ${log}, last 30 lines:\n${tail || '(none)'}\n--- stderr:\n${stderr.trimEnd() || '(none)'}`,
        ),
      );
    });
  });
}

describe.skipIf(reason !== undefined)('a fresh lab run', () => {
  const runs = new Map<LabVariant, LabRun>();
  const dirs: string[] = [];

  beforeAll(
    async () => {
      for (const [i, variant] of labVariants.entries()) {
        const out = mkdtempSync(join(tmpdir(), `palisade-lab-${variant}-`));
        dirs.push(out);
        // Namespace names of our own, so that another lab run on this machine does not meet
        // ours; the lab names interfaces after TB_ID's first 10 characters, this is at most 10.
        await runTestbed(out, { TB_ID: `pl${process.pid}${i}`, ...variantEnv[variant] });
        runs.set(variant, readLabRun(out, variant));
      }
    },
    labVariants.length * RUN_LIMIT_MS + 30_000,
  );

  afterAll(() => {
    // A run cut short by the hook's timeout: its EXIT trap tears the namespaces down.
    running?.kill('SIGTERM');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const run = (variant: LabVariant): LabRun => {
    const r = runs.get(variant);
    if (!r) throw new Error(`expected a ${variant} run, found none (see the beforeAll error)`);
    return r;
  };

  for (const variant of labVariants) {
    for (const [name, scenario] of Object.entries(labScenarios)) {
      it(`${variant} run: ${name} (${scenario.evidence})`, async () => {
        await expectLabAlerts(run(variant), scenario);
      });
    }
  }
});
