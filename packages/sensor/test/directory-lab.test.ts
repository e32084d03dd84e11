// The directory sync source against a real Samba AD DC (fixtures/directory-lab.sh): a full sync
// checked attribute by attribute against what ldapsearch says, then changes made with
// samba-tool and an incremental sync that must return exactly the changed objects, resumable
// from any chunk and reproducible from the same checkpoint; then wrong credentials and an
// address with nothing listening, each a named health issue while the source keeps retrying.
// Needs root and Debian's samba; skipped with a printed reason otherwise.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInSensitiveGroups } from '@palisade/detect';
import { checkRow, type TableRow } from '@palisade/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceChunk, SourceHealthIssue } from '../src/source.ts';
import type { SensitiveEntity } from '../src/sources/directory-membership.ts';
import { DirectorySource, type DirectorySourceOptions } from '../src/sources/directory-source.ts';
import type { DirectoryCheckpoint } from '../src/sources/directory-sync.ts';

const script = join(import.meta.dirname, '..', 'fixtures', 'directory-lab.sh');
const missing =
  process.getuid?.() !== 0
    ? 'not root (the lab needs network namespaces)'
    : !existsSync('/usr/sbin/samba') ||
        !existsSync('/usr/bin/samba-tool') ||
        !existsSync('/usr/bin/ldapsearch')
      ? 'samba, samba-tool or ldapsearch is not installed'
      : undefined;
if (missing) console.log(`directory lab skipped: ${missing}`);

type Lab = Record<string, string>;
let lab: Lab = {};
let child: ChildProcess | undefined;
let stateDir = '';
let started = 0;

/** One LDIF entry: its DN and attribute values by lower-case name. */
interface LdifEntry {
  readonly dn: string;
  readonly values: Map<string, string[]>;
}

function ldapsearch(filter: string, attributes: string[], extra: string[] = []): LdifEntry[] {
  const out = execFileSync(
    'ldapsearch',
    [
      ...['-LLL', '-o', 'ldif-wrap=no', '-x', '-H', `ldaps://${lab.DC_IP}`],
      ...['-D', lab.SVC_DN as string, '-w', lab.SVC_PW as string, '-b', lab.BASE_DN as string],
      ...extra,
      filter,
      ...attributes,
    ],
    { env: { ...process.env, LDAPTLS_CACERT: lab.CA_FILE, LDAPTLS_REQCERT: 'allow' }, encoding: 'utf8' },
  );
  const entries: LdifEntry[] = [];
  for (const block of out.split(/\n\n+/)) {
    let dn = '';
    const values = new Map<string, string[]>();
    for (const line of block.split('\n')) {
      const m = /^([^:#]+)(::?) ?(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2] === '::' ? Buffer.from(m[3] as string, 'base64').toString('utf8') : (m[3] as string);
      const name = (m[1] as string).toLowerCase();
      if (name === 'dn') dn = value;
      else values.set(name, [...(values.get(name) ?? []), value]);
    }
    if (dn) entries.push({ dn, values });
  }
  return entries;
}
const one = (e: LdifEntry, name: string) => e.values.get(name.toLowerCase())?.[0];

/**
 * The groups of an account as the DC evaluates them (LDAP_MATCHING_RULE_IN_CHAIN over `member`),
 * plus its primary group Domain Users and, in chain, the groups Domain Users is in.
 */
function groupsInChain(dn: string): string[] {
  const domainUsers = `CN=Domain Users,CN=Users,${lab.BASE_DN}`;
  const names = [dn, domainUsers].flatMap((d) =>
    ldapsearch(`(member:1.2.840.113556.1.4.1941:=${d})`, ['sAMAccountName']).map((g) =>
      one(g, 'sAMAccountName'),
    ),
  );
  return [...new Set([...names, 'Domain Users'])].sort() as string[];
}

/** samba-tool on the DC's own database, inside its namespace. */
function sambaTool(...args: string[]): void {
  const dc = lab.DC_DIR as string;
  execFileSync('ip', [
    ...['netns', 'exec', lab.NS_DC as string, 'samba-tool', ...args],
    ...['-H', `${dc}/private/sam.ldb`, '-s', `${dc}/etc/smb.conf`],
  ]);
}

function options(extra: Partial<DirectorySourceOptions> = {}): DirectorySourceOptions {
  return {
    url: `ldaps://${lab.DC_IP}`,
    bindDn: lab.SVC_DN as string,
    password: lab.SVC_PW as string,
    caFile: lab.CA_FILE as string,
    tlsServerName: 'DC1.corp.lab.test',
    intervalSeconds: 3600,
    timeoutMs: 10_000,
    ...extra,
  };
}

interface PassResult {
  readonly chunks: SourceChunk<DirectoryCheckpoint>[];
  readonly rows: TableRow[];
  readonly checkpoint: DirectoryCheckpoint | undefined;
  readonly sensitive: readonly SensitiveEntity[];
}

/** Runs the source for one pass from `from` and stops it. */
async function onePass(from: DirectoryCheckpoint | undefined, extra: Partial<DirectorySourceOptions> = {}) {
  const stop = new AbortController();
  let sensitive: readonly SensitiveEntity[] = [];
  const issues: SourceHealthIssue[] = [];
  const source = new DirectorySource(
    options({
      ...extra,
      onSensitiveEntities: (entities) => {
        sensitive = entities;
        stop.abort();
      },
    }),
  );
  const chunks: SourceChunk<DirectoryCheckpoint>[] = [];
  const context = {
    signal: stop.signal,
    deviceName: 'sensor-test',
    health: (issue: SourceHealthIssue) => {
      issues.push(issue);
      stop.abort();
    },
    clearHealth: () => {},
  };
  for await (const chunk of source.run(from, context)) chunks.push(chunk);
  expect(issues).toEqual([]);
  expect(source.sensitiveEntities()).toEqual(sensitive);
  const result: PassResult = {
    chunks,
    rows: chunks.flatMap((c) => [...c.rows]),
    checkpoint: chunks.at(-1)?.checkpoint ?? from,
    sensitive,
  };
  return result;
}

/** Runs the source until it has reported `count` health issues. */
async function issuesOf(extra: Partial<DirectorySourceOptions>, count: number) {
  const stop = new AbortController();
  const issues: SourceHealthIssue[] = [];
  const source = new DirectorySource(options({ retryInitialMs: 100, retryMaxMs: 400, ...extra }));
  const context = {
    signal: stop.signal,
    deviceName: 'sensor-test',
    health: (issue: SourceHealthIssue) => {
      issues.push(issue);
      if (issues.length >= count) stop.abort();
    },
    clearHealth: () => {},
  };
  const chunks: unknown[] = [];
  for await (const chunk of source.run(undefined, context)) chunks.push(chunk);
  return { issues, chunks };
}

const values = (row: TableRow) => row.values as Record<string, unknown>;
const data = (row: TableRow) => values(row).Data as Record<string, unknown>;
const identities = (rows: TableRow[]) =>
  new Map(
    rows.filter((r) => r.table === 'IdentityInfo').map((r) => [values(r).AccountName as string, values(r)]),
  );
const raws = (rows: TableRow[]) =>
  new Map(
    rows
      .filter((r) => r.table === 'PalisadeRawEvents')
      .map((r) => [data(r).sAMAccountName as string, data(r)]),
  );

describe.skipIf(missing !== undefined)('directory sync against a Samba AD DC', () => {
  beforeAll(async () => {
    started = Date.now();
    stateDir = mkdtempSync(join(tmpdir(), 'directory-lab-'));
    const log: string[] = [];
    const proc = spawn('bash', [script, stateDir, String(process.pid)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (b: Buffer) => log.push(b.toString()));
    proc.stderr?.on('data', (b: Buffer) => log.push(b.toString()));
    const ready = join(stateDir, 'ready.env');
    for (let i = 0; i < 600 && !existsSync(ready); i++) {
      if (proc.exitCode !== null) throw new Error(`the lab exited ${proc.exitCode}: ${log.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!existsSync(ready)) throw new Error(`the lab did not come up: ${log.join('')}`);
    lab = Object.fromEntries(
      readFileSync(ready, 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    console.log(`directory lab up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${lab.DC_IP}`);
  }, 180_000);

  afterAll(async () => {
    const proc = child;
    if (proc && proc.exitCode === null) {
      writeFileSync(join(stateDir, 'stop'), '');
      const exited = new Promise((r) => proc.once('exit', r));
      const timer = setTimeout(() => proc.kill('SIGTERM'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    console.log(`directory lab total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 60_000);

  let full: PassResult;
  let settled: DirectoryCheckpoint | undefined;

  it('syncs every user, computer and group with what ldapsearch reports', async () => {
    full = await onePass(undefined);
    for (const row of full.rows) expect(checkRow(row), JSON.stringify(row)).toEqual([]);
    const ids = identities(full.rows);
    const raw = raws(full.rows);

    // accounts: the same names, SIDs, GUIDs (the DC's own strings, via the extended-DN control),
    // flags and SPNs
    const extended = ['-E', '!1.2.840.113556.1.4.529=::MAMCAQE='];
    const accounts = ldapsearch(
      '(objectClass=user)',
      ['sAMAccountName', 'userAccountControl', 'servicePrincipalName', 'userPrincipalName', 'adminCount'],
      extended,
    );
    expect([...ids.keys()].sort()).toEqual(accounts.map((a) => one(a, 'sAMAccountName')).sort());
    for (const account of accounts) {
      const name = one(account, 'sAMAccountName') as string;
      const id = ids.get(name) as Record<string, unknown>;
      const [, guid, sid, dn] = /^<GUID=([^>]+)>;<SID=([^>]+)>;(.*)$/.exec(account.dn) ?? [];
      expect({ guid, sid, dn, upn: one(account, 'userPrincipalName') }).toEqual({
        guid: id.AccountObjectId,
        sid: id.OnPremSid,
        dn: id.DistinguishedName,
        upn: id.AccountUpn,
      });
      const uac = Number(one(account, 'userAccountControl'));
      expect(raw.get(name)?.userAccountControl).toBe(uac);
      expect(id.IsAccountEnabled).toBe((uac & 2) === 0);
      expect(raw.get(name)?.servicePrincipalName ?? []).toEqual(
        [...(account.values.get('serviceprincipalname') ?? [])].sort(),
      );
      expect(raw.get(name)?.adminCount).toBe(
        one(account, 'adminCount') === undefined ? undefined : Number(one(account, 'adminCount')),
      );
      expect(id.AccountDomain).toBe('corp.lab.test');
    }
    expect(ids.get('sqlsvc')).toMatchObject({ Type: 'ServiceAccount' });
    expect(raw.get('sqlsvc')?.servicePrincipalName).toEqual(['MSSQLSvc/sql01.corp.lab.test:1433']);
    expect(ids.get('asrep')?.UserAccountControl).toBe('NORMAL_ACCOUNT, DONT_REQ_PREAUTH');
    expect(ids.get('olddisabled')).toMatchObject({ IsAccountEnabled: false, Tags: ['Disabled'] });
    expect(ids.get('alice')).toMatchObject({ Type: 'User', IsAccountEnabled: true, Tags: [] });
    expect(ids.get('DC1$')?.UserAccountControl).toBe('SERVER_TRUST_ACCOUNT, TRUSTED_FOR_DELEGATION');
    // samba-tool creates computer accounts disabled until joined
    expect(ids.get('WS01$')?.UserAccountControl).toBe('ACCOUNTDISABLE, WORKSTATION_TRUST_ACCOUNT');

    // groups: every one delivered, with the members ldapsearch lists
    const groups = ldapsearch('(objectClass=group)', ['sAMAccountName', 'member']);
    for (const group of groups) {
      const name = one(group, 'sAMAccountName') as string;
      expect(raw.get(name)?.member, name).toEqual([...(group.values.get('member') ?? [])].sort());
    }

    // nested membership: the DC's own transitive evaluation (LDAP_MATCHING_RULE_IN_CHAIN) plus
    // the primary group, which `member` never lists
    for (const name of ['bob', 'alice', 'Administrator']) {
      const dn = ids.get(name)?.DistinguishedName as string;
      expect(ids.get(name)?.GroupMembership, name).toEqual(groupsInChain(dn));
    }

    // sensitive entities: members in chain of the built-in sensitive groups, or having one of
    // them as primary group
    const builtIn = ldapsearch(
      `(&(objectClass=group)(|${builtInSensitiveGroups.map((g) => `(cn=${g.name})`).join('')}))`,
      ['sAMAccountName', 'objectSid'],
      extended,
    );
    const inChain = builtIn.flatMap((g) =>
      ldapsearch(`(memberOf:1.2.840.113556.1.4.1941:=${g.dn.replace(/^(<[^>]+>;)+/, '')})`, [
        'sAMAccountName',
      ]),
    );
    const rids = builtIn.flatMap((g) => /-(\d+)>;/.exec(g.dn)?.[1] ?? []);
    const primary = ldapsearch(`(|${rids.map((r) => `(primaryGroupID=${r})`).join('')})`, ['sAMAccountName']);
    const expected = [...new Set([...inChain, ...primary].map((e) => one(e, 'sAMAccountName')))].sort();
    expect(full.sensitive.map((e) => e.name).sort()).toEqual(expected);
    expect(expected).toEqual(
      expect.arrayContaining(['Administrator', 'bob', 'Tier0 Nested', 'Tier0 Ops', 'DC1$']),
    );
    expect(expected).not.toContain('alice');
    expect(ids.get('bob')?.Tags).toEqual(['Sensitive']);
    expect(full.sensitive.find((e) => e.name === 'bob')?.via).toEqual(['Administrators', 'Domain Admins']);
    expect(full.checkpoint?.sensitive).toEqual(full.sensitive.map((e) => e.guid));
    console.log(
      `full sync: ${ids.size} accounts, ${groups.length} groups, ${full.sensitive.length} sensitive, ${full.rows.length} rows`,
    );
  });

  it('yields the same rows from the same checkpoint', async () => {
    const again = await onePass(undefined);
    expect(again.rows).toEqual(full.rows);
    expect(again.checkpoint).toEqual(full.checkpoint);
  });

  it('syncs nothing when nothing changed', async () => {
    // the first binds may touch the service account (lastLogonTimestamp); let that settle
    let from = full.checkpoint;
    for (let i = 0; i < 3; i++) {
      const pass = await onePass(from);
      from = pass.checkpoint;
      if (pass.rows.length === 0) break;
      expect(new Set(pass.rows.map((r) => data(r)?.sAMAccountName ?? values(r).AccountName))).toEqual(
        new Set(['svc-dirsync']),
      );
    }
    const quiet = await onePass(from);
    expect(quiet.rows).toEqual([]);
    settled = quiet.checkpoint;
  });

  it('after a nested membership change and a new SPN, returns exactly the changed objects', async () => {
    const from = settled as DirectoryCheckpoint;
    sambaTool('group', 'addmembers', 'Tier0 Nested', 'carol');
    sambaTool('spn', 'add', 'HTTP/web01.corp.lab.test', 'alice');

    const pass = await onePass(from);
    for (const row of pass.rows) expect(checkRow(row)).toEqual([]);
    const raw = raws(pass.rows);
    // Every account under the changed group is re-evaluated (bob too: nothing records which
    // member was added, neither Samba nor, without replication metadata, AD)...
    expect([...raw.keys()].sort()).toEqual(['Tier0 Nested', 'alice', 'bob', 'carol']);
    expect(raw.get('bob')?.reasons).toEqual(['membership']);
    // ...and what changed in content is exactly the group, the SPN account and the new member.
    const content = (row: TableRow) => {
      const { Timestamp: _t, ReportId: _r, Data, ...rest } = values(row);
      const {
        reasons: _why,
        uSNChanged: _u,
        whenChanged: _w,
        ...kept
      } = (Data ?? {}) as Record<string, unknown>;
      return JSON.stringify({ ...rest, ...(Data ? { Data: kept } : {}) });
    };
    const fullByKey = new Map(
      full.rows.map((r) => [`${r.table}:${values(r).ReportId}`.replace(/:\d+$/, ''), r]),
    );
    const differing = pass.rows
      .filter((r) => {
        const old = fullByKey.get(`${r.table}:${values(r).ReportId}`.replace(/:\d+$/, ''));
        return !old || content(old) !== content(r);
      })
      .map((r) => (r.table === 'IdentityInfo' ? values(r).AccountName : data(r).sAMAccountName));
    expect([...new Set(differing)].sort()).toEqual(['Tier0 Nested', 'alice', 'carol']);
    // the directory's own view of what changed is covered, and carol comes in through the group
    const changed = ldapsearch(`(&(|(objectClass=user)(objectClass=group))(uSNChanged>=${from.usn + 1}))`, [
      'sAMAccountName',
    ]).map((e) => one(e, 'sAMAccountName') as string);
    expect([...raw.keys()]).toEqual(expect.arrayContaining(changed));
    expect(raw.get('carol')?.reasons).toEqual(expect.arrayContaining(['membership', 'sensitivity']));
    expect(raw.get('alice')?.reasons).toEqual(['changed']);
    expect(raw.get('alice')?.servicePrincipalName).toEqual(['HTTP/web01.corp.lab.test']);
    const ids = identities(pass.rows);
    expect(ids.get('alice')?.Type).toBe('ServiceAccount');
    expect(ids.get('carol')).toMatchObject({ Tags: ['Sensitive'] });
    const carolDn = ids.get('carol')?.DistinguishedName as string;
    expect(ids.get('carol')?.GroupMembership).toEqual(groupsInChain(carolDn));
    expect(pass.sensitive.map((e) => e.name)).toContain('carol');
    expect(pass.checkpoint?.usn).toBeGreaterThan(from.usn);

    // reproducible, and resumable from every chunk's checkpoint
    expect((await onePass(from)).rows).toEqual(pass.rows);
    const small = await onePass(from, { maxChunkRecords: 1 });
    expect(small.chunks).toHaveLength(4);
    expect(small.rows).toEqual(pass.rows);
    for (let i = 0; i < small.chunks.length - 1; i++) {
      const resumed = await onePass(small.chunks[i]?.checkpoint);
      expect(resumed.rows).toEqual(small.chunks.slice(i + 1).flatMap((c) => [...c.rows]));
    }
    expect((await onePass(pass.checkpoint)).rows).toEqual([]);
  });

  it('syncs in full again when the checkpoint names another domain controller', async () => {
    const pass = await onePass({ ...(full.checkpoint as DirectoryCheckpoint), invocationId: 'another-dc' });
    expect(identities(pass.rows).size).toBe(identities(full.rows).size);
  });

  it('works over StartTLS too', async () => {
    const pass = await onePass(undefined, { url: `ldap://${lab.DC_IP}`, startTls: true });
    expect(identities(pass.rows).size).toBe(identities(full.rows).size);
  });

  it('reports wrong credentials as directory/bind-failed and keeps retrying', async () => {
    const { issues, chunks } = await issuesOf({ password: 'not-the-password' }, 3);
    expect(chunks).toEqual([]);
    expect(issues.map((i) => i.code)).toEqual([
      'directory/bind-failed',
      'directory/bind-failed',
      'directory/bind-failed',
    ]);
    expect(issues.map((i) => i.details?.retryInSeconds)).toEqual([0.1, 0.2, 0.4]);
    expect(issues[0]?.message).toContain('refused the credentials');
    // plain LDAP without TLS: the DC requires a protected simple bind
    const plain = await issuesOf({ url: `ldap://${lab.DC_IP}` }, 1);
    expect(plain.issues[0]?.code).toBe('directory/bind-failed');
  });

  it('reports an address with nothing listening as directory/unreachable and keeps retrying', async () => {
    const { issues } = await issuesOf({ url: `ldaps://${lab.DC_IP}:3899` }, 2);
    expect(issues.map((i) => i.code)).toEqual(['directory/unreachable', 'directory/unreachable']);
    expect(issues[0]?.message).toMatch(/ECONNREFUSED/);
  });

  it('reports a certificate from another CA as directory/tls-failed', async () => {
    const { issues } = await issuesOf({ caFile: '/etc/ssl/certs/ca-certificates.crt' }, 1);
    expect(issues[0]?.code).toBe('directory/tls-failed');
  });
});
