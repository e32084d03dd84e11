// The sensor end to end on the real lab: run-testbed.sh (a copy of ../shared/testbed's with two
// hooks) provisions a Samba AD DC and runs Impacket's attacks; the hooks start `palisade up` in the
// DC's namespace and a sensor beside the DC that registers with the access key, tails Samba's
// audit logs, captures the DC's interface and syncs the directory over LDAP. Afterwards the
// instance's stores must hold the lab's attacks as alerts, inside their marker windows, and
// IdentityInfo must list the lab's users with the right flags.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AlertRecord, DuckDbEventStore, SqliteStateStore } from '@palisade/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labScenarios, readMarkers } from '../../detect/test/lab-expectations.ts';

const root = resolve(import.meta.dirname, '../../..');
const lab = join(import.meta.dirname, '../fixtures/sensor-lab');
const missing = [
  process.getuid?.() === 0 ? undefined : 'not root',
  spawnSync('samba', ['--version']).status === 0 ? undefined : 'samba is not installed',
  existsSync('/usr/share/doc/python3-impacket/examples') ? undefined : 'python3-impacket is not installed',
  spawnSync('tcpdump', ['--version']).status === 0 ? undefined : 'tcpdump is not installed',
].filter((m) => m !== undefined);
if (missing.length > 0) console.log(`skipping the sensor lab test: ${missing.join(', ')}`);

describe.skipIf(missing.length > 0)('a sensor beside a real Samba DC under attack', () => {
  let work: string;
  let out: string;
  let alerts: AlertRecord[];
  let identities: Record<string, unknown>[];
  let windows: Map<string, readonly [number, number]>;
  let status: { delivered: { records: number }; sources: { id: string; records: number }[] };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'palisade-sensor-lab-'));
    out = join(work, 'out');
    const bundle = join(work, 'palisade.mjs');
    const built = spawnSync(process.execPath, [join(root, 'tools/build.mjs'), bundle], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const run = spawn('bash', [join(lab, 'run-testbed.sh'), out], {
      env: {
        ...process.env,
        TB_ID: `psl${process.pid % 10_000}`,
        TB_HOOKS: join(lab, 'sensor-hooks.sh'),
        PALISADE: bundle,
        SENSOR_WORK: join(work, 'palisade'),
        // The bundle lives in a temporary folder; the hunting language service it loads at run
        // time is found in the repository's node_modules.
        NODE_PATH: join(root, 'node_modules'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    run.stdout.on('data', (part: Buffer) => {
      log += part.toString();
    });
    run.stderr.on('data', (part: Buffer) => {
      log += part.toString();
    });
    const code = await new Promise<number | null>((done) => run.once('exit', done));
    expect(code, log.slice(-4000)).toBe(0);
    status = JSON.parse(await readFile(join(work, 'palisade/status-final.json'), 'utf8'));
    windows = readMarkers(join(out, 'attacks/markers.txt'));

    const data = join(work, 'palisade/data');
    const state = await SqliteStateStore.open(join(data, 'state.sqlite'));
    alerts = (await state.alerts.list({ top: 10_000 })).items;
    await state.close();
    const events = await DuckDbEventStore.open(join(data, 'events.duckdb'), { memoryLimit: '256MB' });
    identities = (
      await events.query(
        'SELECT AccountName, AccountUpn, UserAccountControl, Tags, Type, GroupMembership, IsAccountEnabled FROM "IdentityInfo" ORDER BY "Timestamp"',
      )
    ).rows as Record<string, unknown>[];
    await events.close();
  }, 600_000);

  afterAll(async () => {
    if (work && !process.env.PALISADE_KEEP_LAB) await rm(work, { recursive: true, force: true });
  });

  it('delivers what every source read: audit logs, packets and the directory', () => {
    const bySource = (prefix: string) =>
      status.sources.filter((s) => s.id.startsWith(prefix)).reduce((n, s) => n + s.records, 0);
    console.log(
      `sensor delivered ${status.delivered.records} records: Samba audit ${bySource('samba-audit:')}, capture ${bySource('capture:')}, directory ${bySource('directory:')}`,
    );
    expect(bySource('samba-audit:')).toBeGreaterThan(100);
    expect(bySource('capture:')).toBeGreaterThan(100);
    expect(bySource('directory:')).toBeGreaterThan(0);
    expect(status.delivered.records).toBe(bySource(''));
  });

  it("shows the lab's attacks as alerts inside their windows, naming the attacker's accounts", () => {
    const expected = [...labScenarios.capture.alerts, ...labScenarios.audit.alerts].filter(
      (e) => !('only' in e) && e.attack !== 'setup',
    );
    const inWindow = (alert: AlertRecord, attack: string) => {
      const window = windows.get(attack);
      const t = Date.parse(alert.firstActivity);
      // Alert times are the events' own (audit records and packets, to the microsecond).
      return window !== undefined && t >= window[0] && t <= window[1];
    };
    const missingAlerts = expected.filter((e) => {
      const user = (e.accounts[0] ?? '').split('\\').pop()?.toLowerCase() ?? '';
      return !alerts.some(
        (a) =>
          a.externalId === e.externalId &&
          inWindow(a, e.attack) &&
          JSON.stringify(a.evidence).toLowerCase().includes(user),
      );
    });
    expect(missingAlerts).toEqual([]);
    // The setup window only adds alice to Domain Admins (learning skipped in test mode).
    const inSetup = alerts.filter((a) => inWindow(a, 'setup'));
    expect(inSetup.map((a) => a.externalId)).toEqual(inSetup.map(() => 2024));
  });

  it("lists the lab's users in IdentityInfo with their flags and groups", () => {
    const latest = new Map<string, Record<string, unknown>>();
    for (const row of identities) latest.set(String(row.AccountName).toLowerCase(), row);
    for (const name of ['svc_sql', 'asrep_user', 'alice', 'bob', 'carol', 'svc_palisade'])
      expect(latest.has(name), `IdentityInfo has ${name}`).toBe(true);
    // The SPN account, the account without Kerberos pre-authentication, a Domain Admins member.
    expect(latest.get('svc_sql')?.Type).toBe('ServiceAccount');
    expect(String(latest.get('asrep_user')?.UserAccountControl)).toContain('DONT_REQ_PREAUTH');
    expect(JSON.stringify(latest.get('alice')?.GroupMembership)).toContain('Domain Admins');
    expect(JSON.stringify(latest.get('alice')?.Tags)).toContain('Sensitive');
    expect(JSON.stringify(latest.get('administrator')?.Tags)).toContain('Sensitive');
    expect(JSON.stringify(latest.get('bob')?.Tags ?? [])).not.toContain('Sensitive');
  });
});
