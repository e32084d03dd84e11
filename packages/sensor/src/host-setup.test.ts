// What the sensor reads of its host: the DC role and realm from a real Samba DC's smb.conf (the
// recorded lab's), the JSON audit classes and files its `log level` sets, Windows' audit policy as
// auditpol prints it, and the sensor's own configuration file with every mistake named.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigFile, loadSensorConfig, SensorConfigError } from './config.ts';
import { hostProbe, parseSambaGlobals, readHostFacts, sensorKindOf } from './host-facts.ts';
import { checkSambaAudit, parseSambaLogLevel, sambaAuditFiles } from './samba-settings.ts';
import { parseAuditpol, requiredWindowsAudit } from './sensor-doctor.ts';

const labConf = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples/smb.conf');
const skipLab = existsSync(labConf) ? undefined : `the recorded lab's smb.conf is not at ${labConf}`;
if (skipLab) console.log(`skipping the smb.conf checks: ${skipLab}`);

describe('the host', () => {
  it.skipIf(skipLab !== undefined)("finds a Samba DC and its realm in the lab's smb.conf", async () => {
    const facts = await readHostFacts(hostProbe({ platform: 'linux', sambaConfig: labConf }));
    expect(facts.domainController).toEqual({
      kind: 'samba',
      evidence: `${labConf} says server role = active directory domain controller`,
    });
    expect(facts.domain).toBe('corp.lab.test');
    expect(sensorKindOf(facts, 'endpoint')).toBe('domain-controller');
  });

  it.skipIf(skipLab !== undefined)("reads the lab's JSON audit classes, levels and files", () => {
    const globals = parseSambaGlobals(readFileSync(labConf, 'utf8'));
    const log = (name: string) => `/tmp/idt-testbed.WOXaz3/dc/log/${name}`;
    expect(checkSambaAudit(globals)).toEqual([
      { auditClass: 'auth_json_audit', required: 3, level: 5, file: log('auth_json.log'), ok: true },
      { auditClass: 'dsdb_json_audit', required: 5, level: 5, file: log('dsdb_json.log'), ok: true },
      {
        auditClass: 'dsdb_password_json_audit',
        required: 5,
        level: 5,
        file: log('dsdb_password_json.log'),
        ok: true,
      },
      {
        auditClass: 'dsdb_group_json_audit',
        required: 5,
        level: 5,
        file: log('dsdb_group_json.log'),
        ok: true,
      },
    ]);
    expect(sambaAuditFiles(globals)).toHaveLength(4);
  });

  it('says which classes a plain log level leaves too low, and where they would go', () => {
    const globals = parseSambaGlobals(
      '[global]\n  log file = /var/log/samba/log.%m\n  log level = 2 auth_json_audit:3\n',
    );
    const checks = checkSambaAudit(globals);
    expect(checks.filter((c) => !c.ok).map((c) => `${c.auditClass}:${c.level}`)).toEqual([
      'dsdb_json_audit:2',
      'dsdb_password_json_audit:2',
      'dsdb_group_json_audit:2',
    ]);
    expect(checks[0]).toMatchObject({
      auditClass: 'auth_json_audit',
      level: 3,
      ok: true,
      file: '/var/log/samba/log.%m',
    });
    expect(parseSambaLogLevel('all:4 tdb:1@tdb.log')).toEqual({
      all: 4,
      classes: new Map([['tdb', { level: 1, file: 'tdb.log' }]]),
    });
  });

  it('is an endpoint without a DC role, unless asked to be a standalone sensor', async () => {
    const probe = hostProbe({
      platform: 'linux',
      readText: async () => '[global]\n server role = member server\n',
    });
    const facts = await readHostFacts(probe);
    expect(facts.domainController).toBeUndefined();
    expect(sensorKindOf(facts, 'endpoint')).toBe('endpoint');
    expect(sensorKindOf(facts, 'standalone')).toBe('standalone');
  });

  it('finds a Windows DC by its NTDS service', async () => {
    // `sc.exe query NTDS` on a DC, as Windows prints it (other lines trimmed).
    const sc =
      'SERVICE_NAME: NTDS \r\n        TYPE               : 20  WIN32_SHARE_PROCESS  \r\n        STATE              : 4  RUNNING \r\n';
    const facts = await readHostFacts(
      hostProbe({
        platform: 'win32',
        run: async (file) => (file === 'sc.exe' ? sc : undefined),
        windowsDomain: 'CORP.EXAMPLE.COM',
      }),
    );
    expect(facts.domainController).toEqual({ kind: 'windows', evidence: 'the NTDS service is installed' });
    expect(facts.domain).toBe('corp.example.com');
    const member = await readHostFacts(hostProbe({ platform: 'win32', run: async () => undefined }));
    expect(member.domainController).toBeUndefined();
  });

  it("reads auditpol's table, subcategory by subcategory", () => {
    // The layout of `auditpol /get /category:*`: category lines, then two-space-indented
    // subcategories with their setting after a run of spaces.
    const text = [
      'System audit policy',
      'Category/Subcategory                      Setting',
      'Account Logon',
      '  Kerberos Service Ticket Operations      Success and Failure',
      '  Other Account Logon Events              No Auditing',
      '  Kerberos Authentication Service         Success',
      '  Credential Validation                   Success and Failure',
      'DS Access',
      '  Directory Service Changes               Success and Failure',
      '',
    ].join('\r\n');
    const settings = parseAuditpol(text);
    expect(settings.get('kerberos service ticket operations')).toBe('Success and Failure');
    expect(settings.get('kerberos authentication service')).toBe('Success');
    expect(settings.get('other account logon events')).toBe('No Auditing');
    expect(settings.has('account logon')).toBe(false);
    expect(requiredWindowsAudit).toContain('Directory Service Changes');
  });
});

describe("the sensor's configuration file", () => {
  it('names every mistake by its path', () => {
    expect(
      checkConfigFile({
        sources: {
          evtx: { paths: 'C:\\logs' },
          capture: {},
          directorySync: { url: 'ldaps://dc1', bindDn: 'svc', passwordFile: '/etc/pw', port: 636 },
          printers: {},
        },
        retryMaxSeconds: -1,
        colour: 'blue',
      }),
    ).toEqual([
      'unknown member colour',
      'retryMaxSeconds: expected a positive integer',
      'sources.evtx.paths: expected a list of strings',
      'sources.capture.interface: missing',
      'sources.directorySync.port: unknown member',
      'sources.printers: unknown source (expected one of evtx, windowsEvents, sambaAudit, capture, directorySync, auditd, inventory)',
    ]);
  });

  it("runs the type's default sources without a file, and exactly the file's sources with one", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-sensor-config-'));
    try {
      const dc = await loadSensorConfig(dir, 'domain-controller', {
        platform: 'linux',
        sambaAuditPaths: ['/a.log'],
      });
      expect(dc.sources).toEqual({ sambaAudit: { paths: ['/a.log'] }, capture: { interface: 'any' } });
      const windows = await loadSensorConfig(dir, 'endpoint', { platform: 'win32' });
      expect(Object.keys(windows.sources)).toEqual(['windowsEvents']);
      await writeFile(
        join(dir, 'config.json'),
        JSON.stringify({ sources: { auditd: { path: '/x' } }, batchMaxEvents: 50 }),
      );
      const own = await loadSensorConfig(dir, 'endpoint', { platform: 'linux' });
      expect(own.sources).toEqual({ auditd: { path: '/x' } });
      expect(own.batchMaxEvents).toBe(50);
      await writeFile(join(dir, 'config.json'), '{ "sources": ');
      await expect(loadSensorConfig(dir, 'endpoint')).rejects.toThrow(SensorConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
