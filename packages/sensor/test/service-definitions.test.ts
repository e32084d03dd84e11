// The service definitions shipped with the sensor: the systemd unit passes systemd's own checker,
// the Windows Task Scheduler definition is well-formed XML, and both start the sensor's bundle
// with `sensor run` and the same node options (the ones the sensor benchmark measures with).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '../service');
const unit = join(dir, 'palisade-sensor.service');
const task = join(dir, 'palisade-sensor-task.xml');
const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;
const hasPython = spawnSync('python3', ['--version']).status === 0;

describe('the sensor service definitions', () => {
  it.skipIf(!hasSystemd)('the systemd unit passes systemd-analyze verify', () => {
    const verified = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr).toBe('');
  });

  it.skipIf(!hasPython)('the Windows task definition is well-formed XML', () => {
    const parsed = spawnSync(
      'python3',
      ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])', task],
      {
        encoding: 'utf8',
      },
    );
    expect(parsed.status, parsed.stderr).toBe(0);
  });

  it('both run the sensor bundle with the same node options', () => {
    const exec = /^ExecStart=\S+ node((?: --\S+)*) (\S+) sensor run$/m.exec(readFileSync(unit, 'utf8'));
    const args = /<Arguments>((?:--\S+ )*)"[^"]+\\(palisade-sensor\.mjs)" sensor run /.exec(
      readFileSync(task, 'utf8'),
    );
    expect(exec?.[2]).toMatch(/\/palisade-sensor\.mjs$/);
    expect(args?.[2]).toBe('palisade-sensor.mjs');
    expect(exec?.[1]?.trim()).toBe(args?.[1]?.trim());
    expect(exec?.[1]).toContain('--max-old-space-size=');
  });
});
