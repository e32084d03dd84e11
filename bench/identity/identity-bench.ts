// bench/identity: streams a synthetic day of domain-controller traffic (10,000 users, 500
// hosts, embedded attacks) through the Windows normaliser and every identity detector on one
// core. Prints events/s, the detectors' state size, and which embedded attacks were found.
// Usage: node dist/identity-bench.mjs [--users N] [--hosts N]
import { parseArgs } from 'node:util';
import { type Alert, type AlertEvent, IdentityEngine, identityDetectors } from '@palisade/detect';
import { normaliseWindowsEvent } from '@palisade/schema';
import { syntheticDay } from './synthetic-dc.ts';

const targets = { eventsPerSec: 200_000 } as const;

const { values } = parseArgs({
  options: { users: { type: 'string', default: '10000' }, hosts: { type: 'string', default: '500' } },
});
const { events, attacks } = syntheticDay(Number(values.users), Number(values.hosts));
console.log(
  `bench/identity: ${events.length.toLocaleString('en')} events, ${values.users} users, ${values.hosts} hosts, ${identityDetectors.length} detectors, node ${process.version}`,
);

function run(): { seconds: number; alerts: Alert[]; size: number; rows: number } {
  // The DC is named, as Defender for Identity's sensors know the DCs they run on.
  const engine = new IdentityEngine(identityDetectors, {
    testMode: true,
    honeytokenAccounts: ['decoy_admin'],
    domainControllers: ['DC01'],
  });
  const alerts: Alert[] = [];
  let rows = 0;
  const start = performance.now();
  for (const e of events) {
    const ref: AlertEvent = {
      timestamp: e.timestamp,
      channel: e.system.channel,
      eventId: e.system.eventId,
      computer: e.system.computer,
      recordId: e.recordId,
    };
    for (const row of normaliseWindowsEvent(e, 'evtx', { raw: false })) {
      if (!row.table.startsWith('Identity')) continue;
      rows++;
      for (const a of engine.push(row, ref)) alerts.push(a);
    }
  }
  for (const a of engine.flush()) alerts.push(a);
  return { seconds: (performance.now() - start) / 1000, alerts, size: engine.size, rows };
}

run(); // warm-up
const result = run();
const rate = events.length / result.seconds;
const found = attacks.map((a) => ({
  ...a,
  found: result.alerts.some(
    (alert) =>
      alert.externalId === a.externalId &&
      [...(alert.entities?.accounts ?? []), ...(alert.entities?.ips ?? [])].includes(a.names),
  ),
}));
const other = result.alerts.filter((alert) => !attacks.some((a) => a.externalId === alert.externalId));
console.log(
  `${'events/s'.padEnd(24)} ${Math.round(rate).toLocaleString('en').padStart(10)}   target ≥ ${targets.eventsPerSec.toLocaleString('en')}   ${rate >= targets.eventsPerSec ? 'pass' : 'FAIL'}`,
);
console.log(`${'seconds'.padEnd(24)} ${result.seconds.toFixed(2).padStart(10)}`);
console.log(`${'identity rows'.padEnd(24)} ${result.rows.toLocaleString('en').padStart(10)}`);
console.log(`${'detector state entries'.padEnd(24)} ${result.size.toLocaleString('en').padStart(10)}`);
for (const a of found)
  console.log(`  ${a.found ? 'found ' : 'MISSED'}  ${String(a.externalId).padEnd(5)} ${a.name} (${a.names})`);
console.log(
  `other alerts: ${other.length}${other.length > 0 ? ` (${[...new Set(other.map((a) => `${a.externalId} ${a.title}`))].join('; ')})` : ''}`,
);
console.log(
  JSON.stringify({
    bench: 'identity',
    events: events.length,
    rows: result.rows,
    seconds: result.seconds,
    eventsPerSec: Math.round(rate),
    stateEntries: result.size,
    attacks: found.map((a) => ({ name: a.name, externalId: a.externalId, found: a.found })),
    otherAlerts: other.length,
    targets,
    pass: rate >= targets.eventsPerSec && found.every((a) => a.found),
  }),
);
