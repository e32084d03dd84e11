// The behaviour every StateStore implementation must show, as one suite run against each of them
// (SQLite now; PostgreSQL later): records round-trip, constraints hold with the right error codes,
// filters and paging answer what the API asks, transactions commit whole and run one at a time,
// the audit log only grows, and everything survives a reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alertStatuses,
  classifications,
  detectionFrequencies,
  determinations,
  type NewAlert,
  type StateStore,
  severities,
} from '../src/state-store.ts';
import { StoreError } from '../src/store-error.ts';

export interface StateStoreHarness {
  readonly name: string;
  /** Opens the store kept under `dir`; opening the same `dir` again finds the same data. */
  open(dir: string, options?: { now?: () => Date }): Promise<StateStore>;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
  return 'resolved';
}

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function alert(id: string, extra: Partial<NewAlert> = {}): NewAlert {
  return {
    id,
    title: 'Suspected Kerberos SPN exposure',
    severity: 'High',
    category: 'CredentialAccess',
    detectionSource: 'identity',
    serviceSource: 'Palisade',
    detectorId: 'identity/kerberoasting',
    externalId: 2410,
    mitreTechniques: ['T1558.003'],
    firstActivity: '2026-11-21T09:58:01.123Z',
    lastActivity: '2026-11-21T09:59:59.999Z',
    devices: ['WS01.corp.lab.test'],
    entities: [{ kind: 'account', name: 'alice' }],
    evidence: [{ entityType: 'User', accountName: 'alice', domainName: 'CORP' }],
    ...extra,
  };
}

/** Runs the whole suite against one implementation. */
export function describeStateStore(harness: StateStoreHarness): void {
  describe(`StateStore conformance: ${harness.name}`, () => {
    const dirs: string[] = [];
    const open: StateStore[] = [];
    let clock = T0;
    const openStore = async (dir?: string) => {
      const where = dir ?? mkdtempSync(join(tmpdir(), 'palisade-state-'));
      if (!dir) dirs.push(where);
      clock = T0;
      const store = await harness.open(where, { now: () => new Date(clock) });
      open.push(store);
      return store;
    };
    const tick = (minutes = 1) => {
      clock += minutes * 60_000;
    };
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    it('starts from an empty database at the newest schema version', async () => {
      const store = await openStore();
      expect(await store.schemaVersion()).toBeGreaterThanOrEqual(1);
      expect(await store.instance.get()).toBeUndefined();
      expect(await store.users.list()).toEqual({ items: [], total: 0 });
    });

    it('creates the instance once, merges its settings, and keeps its data directory', async () => {
      const store = await openStore();
      const created = await store.instance.create({
        name: 'corp',
        domain: 'corp.lab.test',
        dataDir: '/var/lib/palisade',
      });
      expect(created).toEqual({
        name: 'corp',
        domain: 'corp.lab.test',
        createdAt: at(0),
        dataDir: '/var/lib/palisade',
        settings: {},
      });
      expect(await codeOf(store.instance.create({ name: 'x', domain: 'x', dataDir: '/x' }))).toBe(
        'store/conflict',
      );
      await store.instance.updateSettings({ thresholds: { '2003': 'Medium' }, testMode: true });
      const updated = await store.instance.updateSettings({ testMode: null, proxy: 'http://proxy:3128' });
      expect(updated.settings).toEqual({ thresholds: { '2003': 'Medium' }, proxy: 'http://proxy:3128' });
      expect(await store.instance.get()).toEqual(updated);
    });

    it('keeps users with unique names (any case), patches and lists them, and deletes what hangs on them', async () => {
      const store = await openStore();
      const alice = await store.users.create({
        name: 'alice',
        passwordHash: '$argon2id$v=19$…',
        totpSecret: 'JBSW',
      });
      expect(alice).toMatchObject({
        name: 'alice',
        disabled: false,
        createdAt: at(0),
        lastLoginAt: null,
        email: null,
      });
      expect(await codeOf(store.users.create({ name: 'ALICE' }))).toBe('store/conflict');
      expect(await codeOf(store.users.create({ name: ' ' }))).toBe('store/invalid');
      expect((await store.users.getByName('Alice'))?.id).toBe(alice.id);
      const bob = await store.users.create({ id: 'u-bob', name: 'bob', displayName: 'Bob', disabled: true });
      expect(bob.id).toBe('u-bob');
      const patched = await store.users.update(alice.id, {
        totpSecret: null,
        lastLoginAt: '2026-11-21T11:00:00Z',
      });
      expect(patched).toMatchObject({
        totpSecret: null,
        lastLoginAt: '2026-11-21T11:00:00.000Z',
        passwordHash: '$argon2id$v=19$…',
      });
      expect(await store.users.update('nobody', { disabled: true })).toBeUndefined();
      expect((await store.users.list({ top: 1 })).items.map((u) => u.name)).toEqual(['alice']);
      expect((await store.users.list({ top: 1, skip: 1 })).total).toBe(2);
      expect((await store.users.list({ includeDisabled: false })).items.map((u) => u.name)).toEqual([
        'alice',
      ]);

      const group = await store.userGroups.create({ name: 'SOC tier 1' });
      await store.userGroups.addMember(group.id, alice.id);
      const role = await store.roles.create({ name: 'Analyst', permissions: ['View data'] });
      await store.roles.assign(role.id, { kind: 'user', id: alice.id });
      await store.sessions.create({ tokenHash: 't1', userId: alice.id, csrfToken: 'c1', expiresAt: at(60) });
      expect(await store.users.delete(alice.id)).toBe(true);
      expect(await store.users.delete(alice.id)).toBe(false);
      expect(await store.userGroups.members(group.id)).toEqual([]);
      expect(await store.roles.assignments(role.id)).toEqual([]);
      expect(await store.sessions.get('t1')).toBeUndefined();
    });

    it('flags a one-time password to be changed, and clears the flag', async () => {
      const store = await openStore();
      expect((await store.users.create({ name: 'alice' })).mustChangePassword).toBe(false);
      const bob = await store.users.create({ name: 'bob', passwordHash: 'h1', mustChangePassword: true });
      expect(bob.mustChangePassword).toBe(true);
      expect((await store.users.update(bob.id, { displayName: 'Bob' }))?.mustChangePassword).toBe(true);
      expect(
        await store.users.update(bob.id, { passwordHash: 'h2', mustChangePassword: false }),
      ).toMatchObject({ passwordHash: 'h2', mustChangePassword: false });
      expect((await store.users.update(bob.id, { mustChangePassword: true }))?.mustChangePassword).toBe(true);
      expect((await store.users.getByName('BOB'))?.mustChangePassword).toBe(true);
      expect((await store.users.list()).items.map((u) => [u.name, u.mustChangePassword])).toEqual([
        ['alice', false],
        ['bob', true],
      ]);
    });

    it('gives users the roles and permissions of their own and their groups’ assignments', async () => {
      const store = await openStore();
      const alice = await store.users.create({ name: 'alice' });
      const bob = await store.users.create({ name: 'bob' });
      const tier1 = await store.userGroups.create({ name: 'tier1', description: 'SOC tier 1' });
      await store.userGroups.addMember(tier1.id, alice.id);
      await store.userGroups.addMember(tier1.id, alice.id);
      const viewer = await store.roles.create({ name: 'Viewer', permissions: ['View data', 'View data'] });
      const responder = await store.roles.create({
        name: 'Responder',
        permissions: ['Alerts investigation', 'Active remediation actions'],
        builtIn: true,
      });
      expect(viewer.permissions).toEqual(['View data']);
      expect(responder.builtIn).toBe(true);
      await store.roles.assign(viewer.id, { kind: 'group', id: tier1.id });
      await store.roles.assign(responder.id, { kind: 'user', id: alice.id });
      await store.roles.assign(responder.id, { kind: 'user', id: alice.id });
      expect(await store.roles.assignments(responder.id)).toEqual([{ kind: 'user', id: alice.id }]);
      expect((await store.roles.rolesOf(alice.id)).map((r) => r.name)).toEqual(['Responder', 'Viewer']);
      expect(await store.roles.permissionsOf(alice.id)).toEqual([
        'Active remediation actions',
        'Alerts investigation',
        'View data',
      ]);
      expect(await store.roles.permissionsOf(bob.id)).toEqual([]);
      expect((await store.userGroups.groupsOf(alice.id)).map((g) => g.name)).toEqual(['tier1']);
      expect(await codeOf(store.roles.assign(viewer.id, { kind: 'user', id: 'nobody' }))).toBe(
        'store/not-found',
      );
      expect(await codeOf(store.roles.assign('no-role', { kind: 'group', id: tier1.id }))).toBe(
        'store/not-found',
      );
      expect(await codeOf(store.roles.create({ name: 'viewer', permissions: [] }))).toBe('store/conflict');
      expect(await store.roles.unassign(viewer.id, { kind: 'group', id: tier1.id })).toBe(true);
      expect(await store.roles.permissionsOf(alice.id)).toEqual([
        'Active remediation actions',
        'Alerts investigation',
      ]);
      const renamed = await store.roles.update(responder.id, { name: 'Tier 2', permissions: ['View data'] });
      expect(renamed).toMatchObject({ name: 'Tier 2', permissions: ['View data'] });
      expect(await store.roles.delete(responder.id)).toBe(true);
      expect(await store.roles.rolesOf(alice.id)).toEqual([]);
      expect((await store.roles.getByName('VIEWER'))?.id).toBe(viewer.id);
    });

    it('keeps API clients with their scopes', async () => {
      const store = await openStore();
      const client = await store.apiClients.create({
        name: 'SIEM',
        secretHash: 'h1',
        scopes: ['Alert.Read.All'],
      });
      expect(client).toMatchObject({ scopes: ['Alert.Read.All'], disabled: false, lastUsedAt: null });
      tick();
      const used = await store.apiClients.update(client.id, {
        lastUsedAt: at(1),
        scopes: ['Alert.Read.All', 'AdvancedQuery.Read.All'],
      });
      expect(used).toMatchObject({ lastUsedAt: at(1), scopes: ['Alert.Read.All', 'AdvancedQuery.Read.All'] });
      expect((await store.apiClients.list()).length).toBe(1);
      expect(await store.apiClients.delete(client.id)).toBe(true);
      expect(await store.apiClients.get(client.id)).toBeUndefined();
    });

    it('answers sessions until they expire, slides them, and clears expired ones', async () => {
      const store = await openStore();
      const user = await store.users.create({ name: 'alice' });
      expect(
        await codeOf(
          store.sessions.create({ tokenHash: 'x', userId: 'nobody', csrfToken: 'c', expiresAt: at(30) }),
        ),
      ).toBe('store/not-found');
      await store.sessions.create({ tokenHash: 'a', userId: user.id, csrfToken: 'ca', expiresAt: at(30) });
      await store.sessions.create({ tokenHash: 'b', userId: user.id, csrfToken: 'cb', expiresAt: at(10) });
      expect(
        await codeOf(
          store.sessions.create({ tokenHash: 'a', userId: user.id, csrfToken: 'c', expiresAt: at(5) }),
        ),
      ).toBe('store/conflict');
      expect((await store.sessions.get('a'))?.csrfToken).toBe('ca');
      tick(20);
      expect(await store.sessions.get('b')).toBeUndefined();
      const touched = await store.sessions.touch('a', at(80));
      expect(touched).toMatchObject({ lastSeenAt: at(20), expiresAt: at(80) });
      expect(await store.sessions.touch('b')).toBeUndefined();
      expect(await store.sessions.deleteExpired()).toBe(1);
      expect(await store.sessions.get('a', at(79))).toBeDefined();
      expect(await store.sessions.get('a', at(80))).toBeUndefined();
      expect(await store.sessions.deleteForUser(user.id)).toBe(1);
    });

    it('ranks device groups, reranks them, and shows each to the user groups it is shared with', async () => {
      const store = await openStore();
      const alice = await store.users.create({ name: 'alice' });
      const bob = await store.users.create({ name: 'bob' });
      const emea = await store.userGroups.create({ name: 'emea-soc' });
      await store.userGroups.addMember(emea.id, alice.id);
      const rules = { deviceName: ['srv-*'], domain: [], tags: ['Tier0'], osPlatform: [] };
      const servers = await store.deviceGroups.create({
        name: 'Servers',
        remediationLevel: 'semi-core',
        rules,
      });
      const dcs = await store.deviceGroups.create({
        name: 'Domain controllers',
        remediationLevel: 'none',
        rules: { tags: ['DC'] },
        userGroupIds: [emea.id],
      });
      const top = await store.deviceGroups.create({
        name: 'VIP',
        rank: 1,
        remediationLevel: 'full',
        rules: {},
      });
      expect((await store.deviceGroups.list()).map((g) => [g.name, g.rank])).toEqual([
        ['VIP', 1],
        ['Servers', 2],
        ['Domain controllers', 3],
      ]);
      expect(servers.rules).toEqual(rules);
      expect(dcs.userGroupIds).toEqual([emea.id]);
      expect((await store.deviceGroups.visibleTo(bob.id)).map((g) => g.name)).toEqual(['VIP', 'Servers']);
      expect((await store.deviceGroups.visibleTo(alice.id)).map((g) => g.name)).toEqual([
        'VIP',
        'Servers',
        'Domain controllers',
      ]);
      const reranked = await store.deviceGroups.rerank([dcs.id, servers.id, top.id]);
      expect(reranked.map((g) => [g.name, g.rank])).toEqual([
        ['Domain controllers', 1],
        ['Servers', 2],
        ['VIP', 3],
      ]);
      expect(await codeOf(store.deviceGroups.rerank([dcs.id]))).toBe('store/invalid');
      expect(
        await codeOf(
          store.deviceGroups.create({ name: 'x', remediationLevel: 'sometimes' as 'full', rules: {} }),
        ),
      ).toBe('store/invalid');
      expect(
        await codeOf(
          store.deviceGroups.create({
            name: 'y',
            remediationLevel: 'full',
            rules: {},
            userGroupIds: ['nope'],
          }),
        ),
      ).toBe('store/not-found');
      expect(await store.deviceGroups.list()).toHaveLength(3);
      const shared = await store.deviceGroups.update(servers.id, {
        userGroupIds: [emea.id],
        description: 'all servers',
      });
      expect(shared).toMatchObject({ userGroupIds: [emea.id], description: 'all servers' });
      expect(await store.deviceGroups.delete(dcs.id)).toBe(true);
      expect((await store.deviceGroups.list()).map((g) => [g.name, g.rank])).toEqual([
        ['Servers', 1],
        ['VIP', 2],
      ]);
    });

    it('registers sensors by certificate, records heartbeats, revokes and deletes them', async () => {
      const store = await openStore();
      const dc1 = await store.sensors.register({
        id: 's-dc1',
        name: 'dc1',
        type: 'domain-controller',
        certificateSerial: '01ab',
        certificateFingerprint: 'sha256:aa',
        host: { os: 'Samba 4.19', role: 'active directory domain controller' },
        version: '0.1.0',
      });
      expect(dc1).toMatchObject({
        configVersion: 0,
        lastSeenAt: null,
        revokedAt: null,
        health: {},
        registeredAt: at(0),
      });
      expect(
        await codeOf(
          store.sensors.register({
            name: 'x',
            type: 'endpoint',
            certificateSerial: '02',
            certificateFingerprint: 'sha256:aa',
          }),
        ),
      ).toBe('store/conflict');
      expect(
        await codeOf(
          store.sensors.register({
            name: 'x',
            type: 'router' as 'file',
            certificateSerial: '02',
            certificateFingerprint: 'b',
          }),
        ),
      ).toBe('store/invalid');
      await store.sensors.register({
        name: 'ws01',
        type: 'endpoint',
        certificateSerial: '03',
        certificateFingerprint: 'sha256:cc',
      });
      tick(5);
      const beat = await store.sensors.heartbeat(dc1.id, { health: { status: 'Healthy', lagMs: 120 } });
      expect(beat).toMatchObject({
        lastSeenAt: at(5),
        health: { status: 'Healthy', lagMs: 120 },
        version: '0.1.0',
      });
      expect((await store.sensors.setConfigVersion(dc1.id, 7))?.configVersion).toBe(7);
      expect((await store.sensors.getByFingerprint('sha256:aa'))?.id).toBe(dc1.id);
      expect((await store.sensors.list({ type: 'endpoint' })).map((s) => s.name)).toEqual(['ws01']);
      expect((await store.sensors.revoke(dc1.id))?.revokedAt).toBe(at(5));
      expect((await store.sensors.list()).map((s) => s.name)).toEqual(['ws01']);
      expect((await store.sensors.list({ includeRevoked: true })).map((s) => s.name)).toEqual([
        'dc1',
        'ws01',
      ]);
      await store.sensorActions.create({ sensorId: dc1.id, type: 'DisableUser', requestedBy: 'alice' });
      expect(await store.sensors.delete(dc1.id)).toBe(true);
      expect((await store.sensorActions.list()).total).toBe(0);
      expect(await store.sensors.heartbeat(dc1.id)).toBeUndefined();
    });

    it('rotates the access key, counting generations', async () => {
      const store = await openStore();
      expect(await store.accessKeys.get()).toBeUndefined();
      expect(await store.accessKeys.rotate('hash-1')).toEqual({
        hash: 'hash-1',
        generation: 1,
        createdAt: at(0),
      });
      tick();
      expect(await store.accessKeys.rotate('hash-2')).toEqual({
        hash: 'hash-2',
        generation: 2,
        createdAt: at(1),
      });
      expect((await store.accessKeys.get())?.hash).toBe('hash-2');
    });

    it('queues actions per sensor and hands out the pending ones oldest first', async () => {
      const store = await openStore();
      const sensor = await store.sensors.register({
        name: 'dc1',
        type: 'domain-controller',
        certificateSerial: '1',
        certificateFingerprint: 'f1',
      });
      expect(
        await codeOf(store.sensorActions.create({ sensorId: 'nope', type: 'DisableUser', requestedBy: 'a' })),
      ).toBe('store/not-found');
      const first = await store.sensorActions.create({
        sensorId: sensor.id,
        type: 'DisableUser',
        parameters: { account: 'CORP\\bob' },
        requestedBy: 'alice',
        comment: 'compromised',
      });
      tick();
      const second = await store.sensorActions.create({
        sensorId: sensor.id,
        type: 'ResetPassword',
        requestedBy: 'automation',
      });
      tick();
      await store.sensorActions.create({
        sensorId: sensor.id,
        type: 'DisableUser',
        requestedBy: 'automation',
        status: 'PendingApproval',
      });
      expect((await store.sensorActions.pendingFor(sensor.id)).map((a) => a.id)).toEqual([
        first.id,
        second.id,
      ]);
      tick();
      const done = await store.sensorActions.setStatus(first.id, 'Succeeded', { result: { disabled: true } });
      expect(done).toMatchObject({
        status: 'Succeeded',
        result: { disabled: true },
        updatedAt: at(3),
        comment: 'compromised',
      });
      expect(await codeOf(store.sensorActions.setStatus(first.id, 'Done' as 'Failed'))).toBe('store/invalid');
      expect((await store.sensorActions.pendingFor(sensor.id)).map((a) => a.id)).toEqual([second.id]);
      const page = await store.sensorActions.list({ status: ['Pending', 'PendingApproval'], top: 1 });
      expect(page.total).toBe(2);
      expect(page.items).toHaveLength(1);
      expect(
        (await store.sensorActions.list({ requested: { from: at(1), to: at(2) } })).items.map((a) => a.id),
      ).toEqual([second.id]);
    });

    it('stores MDE alerts once per id and accepts every listed value', async () => {
      const store = await openStore();
      const { alert: a1, created } = await store.alerts.create(alert('a1'));
      expect(created).toBe(true);
      expect(a1).toEqual({
        id: 'a1',
        incidentId: null,
        title: 'Suspected Kerberos SPN exposure',
        description: '',
        severity: 'High',
        status: 'New',
        classification: null,
        determination: null,
        category: 'CredentialAccess',
        detectionSource: 'identity',
        serviceSource: 'Palisade',
        detectorId: 'identity/kerberoasting',
        externalId: 2410,
        mitreTechniques: ['T1558.003'],
        assignedTo: null,
        firstActivity: '2026-11-21T09:58:01.123Z',
        lastActivity: '2026-11-21T09:59:59.999Z',
        createdAt: at(0),
        lastUpdate: at(0),
        resolvedAt: null,
        devices: ['ws01.corp.lab.test'],
        entities: [{ kind: 'account', name: 'alice' }],
        evidence: [{ entityType: 'User', accountName: 'alice', domainName: 'CORP' }],
      });
      const again = await store.alerts.create(alert('a1', { title: 'replayed' }));
      expect(again).toEqual({ alert: a1, created: false });
      for (const severity of severities) await store.alerts.create(alert(`sev-${severity}`, { severity }));
      for (const status of alertStatuses) {
        expect((await store.alerts.update('a1', { status }))?.status).toBe(status);
      }
      for (const classification of classifications) {
        expect((await store.alerts.update('a1', { classification }))?.classification).toBe(classification);
      }
      for (const determination of determinations) {
        expect((await store.alerts.update('a1', { determination }))?.determination).toBe(determination);
      }
      expect(await codeOf(store.alerts.create(alert('bad', { severity: 'Severe' as 'High' })))).toBe(
        'store/invalid',
      );
      expect(await codeOf(store.alerts.update('a1', { classification: 'Maybe' as 'FalsePositive' }))).toBe(
        'store/invalid',
      );
      expect(await codeOf(store.alerts.create(alert('t', { firstActivity: 'yesterday' })))).toBe(
        'store/invalid',
      );
      expect(await codeOf(store.alerts.create(alert('i', { incidentId: 999 })))).toBe('store/not-found');
    });

    it('updates alerts: lastUpdate always, resolvedAt on resolving, cleared on reopening', async () => {
      const store = await openStore();
      await store.alerts.create(alert('a1'));
      tick(3);
      const resolved = await store.alerts.update('a1', {
        status: 'Resolved',
        classification: 'TruePositive',
        determination: 'SecurityTesting',
        assignedTo: 'alice@corp.lab.test',
        devices: ['DC1', 'ws01'],
      });
      expect(resolved).toMatchObject({
        status: 'Resolved',
        resolvedAt: at(3),
        lastUpdate: at(3),
        assignedTo: 'alice@corp.lab.test',
        devices: ['dc1', 'ws01'],
      });
      tick(1);
      const reopened = await store.alerts.update('a1', { status: 'InProgress', classification: null });
      expect(reopened).toMatchObject({
        status: 'InProgress',
        resolvedAt: null,
        classification: null,
        lastUpdate: at(4),
      });
      expect(await store.alerts.update('nope', { status: 'Resolved' })).toBeUndefined();
    });

    it('lists alerts by status, severity, assignment, incident, time and device scope, a page at a time', async () => {
      const store = await openStore();
      const incident = await store.incidents.create({ name: 'Kerberoasting on ws01', severity: 'High' });
      await store.alerts.create(alert('a1', { severity: 'Low', devices: ['WS01'] }));
      tick();
      await store.alerts.create(
        alert('a2', { severity: 'High', devices: ['srv-db1'], incidentId: incident.id }),
      );
      tick();
      await store.alerts.create(alert('a3', { severity: 'Medium', devices: [], incidentId: incident.id }));
      tick();
      await store.alerts.create(alert('a4', { severity: 'Informational', devices: ['ws02', 'srv-db1'] }));
      await store.alerts.update('a4', { status: 'Resolved', assignedTo: 'bob' });
      const ids = async (filter: Parameters<StateStore['alerts']['list']>[0]) =>
        (await store.alerts.list(filter)).items.map((a) => a.id);
      expect(await ids({})).toEqual(['a4', 'a3', 'a2', 'a1']);
      expect(await ids({ ascending: true })).toEqual(['a1', 'a2', 'a3', 'a4']);
      expect(await ids({ orderBy: 'severity' })).toEqual(['a2', 'a3', 'a1', 'a4']);
      expect(await ids({ status: ['New', 'InProgress'] })).toEqual(['a3', 'a2', 'a1']);
      expect(await ids({ status: [] })).toEqual([]);
      expect(await ids({ severity: ['High', 'Medium'] })).toEqual(['a3', 'a2']);
      expect(await ids({ assignedTo: null })).toEqual(['a3', 'a2', 'a1']);
      expect(await ids({ assignedTo: 'bob' })).toEqual(['a4']);
      expect(await ids({ incidentId: incident.id })).toEqual(['a3', 'a2']);
      expect(
        await ids({ detectorId: 'identity/kerberoasting', created: { from: at(1), to: at(3) } }),
      ).toEqual(['a3', 'a2']);
      expect(await ids({ updated: { from: at(3) } })).toEqual(['a4']);
      expect(await ids({ scope: { devices: ['ws01', 'WS02'] } })).toEqual(['a4', 'a1']);
      expect(await ids({ scope: { devices: ['srv-db1'], includeDeviceless: true } })).toEqual([
        'a4',
        'a3',
        'a2',
      ]);
      expect(await ids({ scope: { devices: [] } })).toEqual([]);
      const page = await store.alerts.list({ top: 2, skip: 1 });
      expect(page.items.map((a) => a.id)).toEqual(['a3', 'a2']);
      expect(page.total).toBe(4);
      expect(await codeOf(store.alerts.list({ status: ['Open' as 'New'] }))).toBe('store/invalid');
      expect(await codeOf(store.alerts.list({ top: -1 }))).toBe('store/invalid');
    });

    it('keeps incidents: numbered, updated, listed by last update, scoped by their alerts', async () => {
      const store = await openStore();
      const i1 = await store.incidents.create({
        name: 'Recon from 10.99.0.20',
        severity: 'Medium',
        tags: ['lab'],
      });
      tick();
      const i2 = await store.incidents.create({
        name: 'Credential theft',
        severity: 'High',
        assignedTo: 'alice',
      });
      expect(i2.id).toBeGreaterThan(i1.id);
      expect(i1).toMatchObject({ status: 'Active', alertCount: 0, tags: ['lab'], redirectIncidentId: null });
      await store.alerts.create(alert('a1', { incidentId: i1.id, devices: ['ws01'] }));
      tick();
      const resolved = await store.incidents.update(i1.id, {
        status: 'Resolved',
        classification: 'FalsePositive',
        determination: 'Clean',
        tags: ['lab', 'pen test'],
      });
      expect(resolved).toMatchObject({
        status: 'Resolved',
        resolvedAt: at(2),
        lastUpdate: at(2),
        alertCount: 1,
      });
      expect((await store.incidents.list()).items.map((i) => i.id)).toEqual([i1.id, i2.id]);
      expect((await store.incidents.list({ orderBy: 'createdAt' })).items.map((i) => i.id)).toEqual([
        i2.id,
        i1.id,
      ]);
      expect((await store.incidents.list({ status: ['Active'] })).items.map((i) => i.id)).toEqual([i2.id]);
      expect((await store.incidents.list({ assignedTo: 'alice' })).items.map((i) => i.id)).toEqual([i2.id]);
      expect((await store.incidents.list({ scope: { devices: ['WS01'] } })).items.map((i) => i.id)).toEqual([
        i1.id,
      ]);
      expect(
        (await store.incidents.list({ scope: { devices: ['dc1'], includeDeviceless: true } })).items.map(
          (i) => i.id,
        ),
      ).toEqual([i2.id]);
      tick();
      const reopened = await store.incidents.update(i1.id, { status: 'Active' });
      expect(reopened?.resolvedAt).toBeNull();
      expect(await store.incidents.update(999, { status: 'Active' })).toBeUndefined();
      expect(await codeOf(store.incidents.update(i1.id, { status: 'Redirected' as 'Active' }))).toBe(
        'store/invalid',
      );
    });

    it('merges incidents: alerts move, sources redirect, severity rises, all or nothing', async () => {
      const store = await openStore();
      const target = await store.incidents.create({ name: 'target', severity: 'Low' });
      const s1 = await store.incidents.create({ name: 's1', severity: 'Medium' });
      const s2 = await store.incidents.create({ name: 's2', severity: 'Low' });
      await store.alerts.create(alert('a1', { incidentId: target.id, severity: 'Low' }));
      await store.alerts.create(alert('a2', { incidentId: s1.id, severity: 'High' }));
      await store.alerts.create(alert('a3', { incidentId: s2.id, severity: 'Medium' }));
      expect(await codeOf(store.incidents.merge([s1.id, 999], target.id))).toBe('store/not-found');
      expect((await store.alerts.get('a2'))?.incidentId).toBe(s1.id);
      tick();
      const merged = await store.incidents.merge([s1.id, s2.id], target.id);
      expect(merged).toMatchObject({ id: target.id, severity: 'High', alertCount: 3, lastUpdate: at(1) });
      expect(await store.incidents.get(s1.id)).toMatchObject({
        status: 'Redirected',
        redirectIncidentId: target.id,
      });
      expect((await store.alerts.list({ incidentId: target.id })).total).toBe(3);
      expect(await codeOf(store.incidents.merge([target.id], s2.id))).toBe('store/not-found');
    });

    it('keeps comments on alerts and incidents, oldest first', async () => {
      const store = await openStore();
      const incident = await store.incidents.create({ name: 'i', severity: 'Low' });
      await store.alerts.create(alert('a1'));
      await store.comments.add({ target: { kind: 'alert', id: 'a1' }, author: 'alice', text: 'looking' });
      tick();
      await store.comments.add({
        target: { kind: 'alert', id: 'a1' },
        author: 'bob',
        text: 'benign: pen test',
      });
      const c = await store.comments.add({
        target: { kind: 'incident', id: incident.id },
        author: 'alice',
        text: 'merged',
      });
      expect(c).toMatchObject({
        target: { kind: 'incident', id: incident.id },
        author: 'alice',
        createdAt: at(1),
      });
      expect((await store.comments.list({ kind: 'alert', id: 'a1' })).map((x) => x.text)).toEqual([
        'looking',
        'benign: pen test',
      ]);
      expect(await store.comments.list({ kind: 'incident', id: incident.id })).toEqual([c]);
      expect(
        await codeOf(store.comments.add({ target: { kind: 'alert', id: 'nope' }, author: 'a', text: 't' })),
      ).toBe('store/not-found');
      expect(
        await codeOf(store.comments.add({ target: { kind: 'alert', id: 'a1' }, author: 'a', text: '' })),
      ).toBe('store/invalid');
    });

    it('appends to the audit log, which offers no way to change or remove an entry', async () => {
      const store = await openStore();
      const first = await store.audit.append({
        actor: 'alice',
        action: 'user.create',
        target: 'user:bob',
        details: { role: 'Viewer' },
      });
      tick();
      await store.audit.append({ actor: 'system', action: 'sensor.register', target: 'sensor:dc1' });
      await store.audit.append({
        actor: 'alice',
        action: 'login',
        outcome: 'failure',
        details: { reason: 'WrongPassword' },
      });
      expect(first).toEqual({
        seq: first.seq,
        at: at(0),
        actor: 'alice',
        action: 'user.create',
        target: 'user:bob',
        outcome: 'success',
        details: { role: 'Viewer' },
      });
      const all = await store.audit.list();
      expect(all.items.map((e) => e.action)).toEqual(['login', 'sensor.register', 'user.create']);
      expect(all.items[0]?.seq).toBeGreaterThan(all.items[1]?.seq ?? Infinity);
      expect(
        (await store.audit.list({ actor: 'alice', ascending: true })).items.map((e) => e.action),
      ).toEqual(['user.create', 'login']);
      expect((await store.audit.list({ at: { from: at(1) } })).total).toBe(2);
      expect(
        await codeOf(store.audit.append({ actor: 'a', action: 'x', outcome: 'maybe' as 'success' })),
      ).toBe('store/invalid');
      expect(Object.keys(store.audit).sort()).toEqual(['append', 'list']);
    });

    it('saves detector snapshots with their input position, bytes intact', async () => {
      const store = await openStore();
      const state = new Uint8Array([0, 1, 2, 255, 254, 0, 7]);
      const saved = await store.detectorSnapshots.save({
        detectorId: 'identity/brute-force',
        state,
        position: '1042',
      });
      expect(saved).toEqual({ detectorId: 'identity/brute-force', state, position: '1042', savedAt: at(0) });
      tick();
      const bigger = new Uint8Array(70_000).map((_, i) => i % 251);
      await store.detectorSnapshots.save({
        detectorId: 'identity/brute-force',
        state: bigger.subarray(1),
        position: '1043',
      });
      const loaded = await store.detectorSnapshots.get('identity/brute-force');
      expect(loaded?.position).toBe('1043');
      expect(loaded?.state).toEqual(bigger.subarray(1));
      expect(loaded?.savedAt).toBe(at(1));
      await store.detectorSnapshots.save({
        detectorId: 'identity/dcsync',
        state: new Uint8Array(),
        position: '1043',
      });
      expect((await store.detectorSnapshots.list()).map((s) => s.detectorId)).toEqual([
        'identity/brute-force',
        'identity/dcsync',
      ]);
      expect(await store.detectorSnapshots.delete('identity/dcsync')).toBe(true);
      expect(await store.detectorSnapshots.get('identity/dcsync')).toBeUndefined();
    });

    it('keeps a ledger of received batches: once per id, unprocessed oldest first, pruned when done', async () => {
      const store = await openStore();
      expect((await store.batches.record({ batchId: 's1:1', sensorId: 's1', rows: 500 })).created).toBe(true);
      tick();
      await store.batches.record({ batchId: 's1:2', sensorId: 's1', rows: 20 });
      const again = await store.batches.record({ batchId: 's1:1', sensorId: 's1', rows: 999 });
      expect(again).toEqual({
        batch: { batchId: 's1:1', sensorId: 's1', rows: 500, receivedAt: at(0), processedAt: null },
        created: false,
      });
      expect((await store.batches.unprocessed()).map((b) => b.batchId)).toEqual(['s1:1', 's1:2']);
      tick();
      expect((await store.batches.markProcessed('s1:1'))?.processedAt).toBe(at(2));
      expect((await store.batches.unprocessed()).map((b) => b.batchId)).toEqual(['s1:2']);
      expect(await store.batches.prune(at(10))).toBe(1);
      expect(await store.batches.get('s1:1')).toBeUndefined();
      expect(await store.batches.get('s1:2')).toBeDefined();
    });

    it('commits a transaction whole, or rolls all of it back when its function throws', async () => {
      const store = await openStore();
      const result = await store.transaction(async (tx) => {
        const user = await tx.users.create({ name: 'alice' });
        await tx.audit.append({ actor: 'system', action: 'user.create', target: user.id });
        return user.id;
      });
      expect((await store.users.get(result))?.name).toBe('alice');
      const failure = new Error('abandon');
      await expect(
        store.transaction(async (tx) => {
          await tx.users.create({ name: 'bob' });
          await tx.detectorSnapshots.save({ detectorId: 'd', state: new Uint8Array([1]), position: '1' });
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await store.users.getByName('bob')).toBeUndefined();
      expect(await store.detectorSnapshots.list()).toEqual([]);
      // A constraint failure inside rolls back the writes before it too.
      expect(
        await codeOf(
          store.transaction(async (tx) => {
            await tx.users.create({ name: 'carol' });
            await tx.users.create({ name: 'CAROL' });
          }),
        ),
      ).toBe('store/conflict');
      expect(await store.users.getByName('carol')).toBeUndefined();
    });

    it('runs concurrent transactions one at a time, and makes the store wait for an open one', async () => {
      const store = await openStore();
      await store.instance.create({
        name: 'corp',
        domain: 'corp.lab.test',
        dataDir: '/d',
        settings: { counter: 0 },
      });
      // Read, yield, write: interleaved, these would lose updates.
      const increment = () =>
        store.transaction(async (tx) => {
          const current = (await tx.instance.get())?.settings.counter as number;
          await new Promise((done) => setTimeout(done, 1));
          await tx.instance.updateSettings({ counter: current + 1 });
        });
      await Promise.all(Array.from({ length: 20 }, increment));
      expect((await store.instance.get())?.settings.counter).toBe(20);

      const order: string[] = [];
      let release = () => {};
      const held = new Promise<void>((done) => {
        release = done;
      });
      const tx = store.transaction(async (t) => {
        await t.users.create({ name: 'inside' });
        order.push('tx wrote');
        await held;
        order.push('tx ends');
      });
      const outside = store.users.getByName('inside').then((u) => order.push(`outside saw ${u?.name}`));
      await new Promise((done) => setTimeout(done, 20));
      release();
      await Promise.all([tx, outside]);
      expect(order).toEqual(['tx wrote', 'tx ends', 'outside saw inside']);
    });

    it('refuses the store inside its own transaction, a used-up tx, and nests with savepoints', async () => {
      const store = await openStore();
      expect(await codeOf(store.transaction(async () => store.users.list()))).toBe('store/misuse');
      let leaked: StateStore | undefined;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      expect(await codeOf((leaked as StateStore).users.list())).toBe('store/misuse');
      await store.transaction(async (tx) => {
        await tx.users.create({ name: 'outer' });
        await expect(
          tx.transaction(async (inner) => {
            await inner.users.create({ name: 'inner' });
            throw new Error('inner fails');
          }),
        ).rejects.toThrow('inner fails');
        await tx.transaction(async (inner) => inner.users.create({ name: 'kept' }));
      });
      expect((await store.users.list()).items.map((u) => u.name)).toEqual(['kept', 'outer']);
    });

    it('keeps custom detection rules: every frequency and severity, patches, run outcomes, deletion', async () => {
      const store = await openStore();
      const rule = {
        title: 'Encoded PowerShell',
        query: 'DeviceProcessEvents | where ProcessCommandLine has "-enc"',
        frequency: '1h',
        severity: 'Medium',
        category: 'Execution',
        mitreTechniques: ['T1059.001'],
        entityMapping: { device: 'DeviceName', account: 'AccountName' },
        createdBy: 'alice',
      } as const;
      const created = await store.customDetections.create(rule);
      expect(created).toEqual({
        ...rule,
        id: created.id,
        mitreTechniques: ['T1059.001'],
        description: null,
        recommendedActions: null,
        enabled: true,
        createdAt: at(0),
        lastUpdate: at(0),
        lastRunAt: null,
        lastRunStatus: null,
        lastRunMessage: null,
      });
      for (const frequency of detectionFrequencies) {
        for (const severity of severities) {
          await store.customDetections.create({
            ...rule,
            frequency,
            severity,
            title: `${frequency} ${severity}`,
          });
        }
      }
      expect(await codeOf(store.customDetections.create({ ...rule, frequency: '5m' as '1h' }))).toBe(
        'store/invalid',
      );
      expect(await codeOf(store.customDetections.create({ ...rule, title: ' ' }))).toBe('store/invalid');
      expect(await codeOf(store.customDetections.create({ ...rule, id: created.id }))).toBe('store/conflict');
      tick();
      const patched = await store.customDetections.update(created.id, {
        enabled: false,
        frequency: '24h',
        description: 'from the hunting team',
      });
      expect(patched).toMatchObject({
        enabled: false,
        frequency: '24h',
        description: 'from the hunting team',
      });
      expect(patched?.lastUpdate).toBe(at(1));
      expect(
        await codeOf(store.customDetections.update(created.id, { severity: 'Critical' as 'High' })),
      ).toBe('store/invalid');
      tick();
      const ran = await store.customDetections.recordRun(created.id, {
        at: at(2),
        status: 'failed',
        message: 'the query ran longer than 600 s',
      });
      expect(ran).toMatchObject({ lastRunAt: at(2), lastRunStatus: 'failed', lastUpdate: at(1) });
      expect(await store.customDetections.update('nope', { enabled: true })).toBeUndefined();
      const list = await store.customDetections.list();
      expect(list).toHaveLength(1 + detectionFrequencies.length * severities.length);
      expect(list[0]?.id).toBe(created.id);
      expect(await store.customDetections.delete(created.id)).toBe(true);
      expect(await store.customDetections.delete(created.id)).toBe(false);
      expect(await store.customDetections.get(created.id)).toBeUndefined();
    });

    it('keeps everything across close and reopen, and refuses calls once closed', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'palisade-state-'));
      dirs.push(dir);
      const first = await harness.open(dir);
      await first.instance.create({ name: 'corp', domain: 'corp.lab.test', dataDir: dir });
      const user = await first.users.create({ name: 'alice' });
      const entry = await first.audit.append({ actor: 'alice', action: 'login' });
      const incident = await first.incidents.create({ name: 'i', severity: 'High' });
      const version = await first.schemaVersion();
      await first.close();
      expect(await codeOf(first.users.list())).toBe('store/closed');
      const again = await openStore(dir);
      expect(await again.schemaVersion()).toBe(version);
      expect((await again.instance.get())?.dataDir).toBe(dir);
      expect((await again.users.get(user.id))?.name).toBe('alice');
      expect((await again.audit.list()).items).toEqual([entry]);
      const next = await again.audit.append({ actor: 'alice', action: 'logout' });
      expect(next.seq).toBeGreaterThan(entry.seq);
      expect((await again.incidents.create({ name: 'j', severity: 'Low' })).id).toBeGreaterThan(incident.id);
    });
  });
}
