// `palisade sensor register|status|doctor` as a user runs them, against an instance on loopback:
// what registration says, that status reads the sensor's directory, and that doctor checks the
// server, the certificate and the clock and fails when the sensor's key is readable by others.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningInstance } from '@palisade/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopbackInstance } from '../../sensor/test/loopback-instance.ts';
import { run } from '../src/index.ts';
import { memoryOutput } from './memory-output.ts';

describe('palisade sensor', () => {
  let dir: string;
  let instance: RunningInstance;
  let sensorDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-cli-sensor-'));
    instance = await startLoopbackInstance(dir);
    sensorDir = join(dir, 'sensor');
    // Not this machine's smb.conf: with none, the host is an endpoint whatever is installed here.
    process.env.PALISADE_SAMBA_CONFIG = join(dir, 'no-smb.conf');
    await writeFile(join(dir, 'ca.pem'), instance.instance.ca.certificatePem);
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const register = (key: string) =>
    run(
      [
        'sensor',
        'register',
        '--server',
        instance.url,
        '--access-key',
        key,
        '--ca-file',
        join(dir, 'ca.pem'),
        '--dir',
        sensorDir,
      ],
      out,
    );
  let out = memoryOutput();

  it('registers and says what it installed as; a wrong key is refused with exit code 1', async () => {
    out = memoryOutput();
    expect(await register('pak_wrong')).toBe(1);
    expect(out.stderr.join('\n')).toContain('the instance refused the access key');
    out = memoryOutput();
    expect(await register(instance.created?.accessKey ?? '')).toBe(0);
    expect(out.stdout).toMatch(
      /^Installed as an endpoint sensor\.\nRegistered \S+ with https:\/\/127\.0\.0\.1:\d+ as sensor [0-9a-f-]{36}\./,
    );
    expect(out.stdout).toContain('the access key was not kept');
  });

  it('shows the registration in status, with no sensor running', async () => {
    out = memoryOutput();
    expect(await run(['sensor', 'status', '--dir', sensorDir], out)).toBe(0);
    expect(out.stdout).toMatch(
      /^Registered to {2}https:\/\/127\.0\.0\.1:\d+\/\nSensor {9}\S+ \([0-9a-f-]{36}\), endpoint sensor\nRunning {8}no\n$/,
    );
  });

  it('checks server, certificate and clock, and fails on a key others can read', async () => {
    await writeFile(join(sensorDir, 'config.json'), JSON.stringify({ sources: { evtx: { paths: [dir] } } }));
    out = memoryOutput();
    expect(await run(['sensor', 'doctor', '--dir', sensorDir, '--json'], out)).toBe(0);
    const checks = JSON.parse(out.stdout) as { name: string; outcome: string; message: string }[];
    expect(Object.fromEntries(checks.map((c) => [c.name, c.outcome]))).toEqual({
      registration: 'ok',
      certificate: 'ok',
      server: 'ok',
      clock: 'ok',
      'Samba audit': 'skipped',
      capture: 'skipped',
    });
    await chmod(join(sensorDir, 'sensor.key'), 0o644);
    out = memoryOutput();
    expect(await run(['sensor', 'doctor', '--dir', sensorDir], out)).toBe(1);
    expect(out.stdout).toMatch(
      /^FAILED {3}registration .*sensor\.key is mode 644: only the sensor's account may read its key/m,
    );
  });
});
