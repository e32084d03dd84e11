// 2007 Network-mapping reconnaissance (DNS): a zone transfer (AXFR or IXFR) asked of a DNS server
// by a machine that is not a DNS server itself. A zone transfer hands over every name and
// address of the domain; in Active Directory only DNS servers (domain controllers and configured
// secondaries) need one. Seen in the IdentityQueryEvents "DNS query" rows packets give.
// Learning (High level only): sources that transfer zones during the first 8 days are taken
// to be secondary DNS servers and never alert. A refused transfer alerts too: the attempt is the
// reconnaissance, and Defender for Identity's own validation step (`ls -d` in nslookup) is one.
import { QueryAction } from '@palisade/schema';
import { accountLabel, type DetectorMeta, type IdentityDetector, noFindings, text } from './detector.ts';
import { Cooldown, unique } from './windows.ts';

const SOURCES = 10_000;
const DAY_MS = 86_400_000;
const ZONE_TRANSFERS: ReadonlySet<string> = new Set(['AXFR', 'IXFR']);

export const dnsReconDetector: IdentityDetector = {
  meta: {
    id: 'identity/dns-recon',
    externalId: 2007,
    tables: ['IdentityQueryEvents'],
    title: 'Network-mapping reconnaissance (DNS)',
    severity: 'medium',
    tactics: ['Discovery'],
    techniques: ['T1087', 'T1046', 'T1018'],
    description: 'A machine that is not a DNS server asked a DNS server for a zone transfer.',
    learningPeriodDays: 8,
    thresholds: {
      high: { learningDays: 8 },
      medium: { learningDays: 0 },
      low: { learningDays: 0 },
    },
  } satisfies DetectorMeta,
  create({ thresholds: t, directory }) {
    const learningMs = (t.learningDays ?? 0) * DAY_MS;
    // Sources seen transferring zones while learning: secondaries, by the traffic's own account.
    const secondaries = new Set<string>();
    const cooldown = new Cooldown(DAY_MS, SOURCES);
    let first: number | undefined;
    return {
      push(row, time, event) {
        if (row.table !== 'IdentityQueryEvents' || text(row, 'ActionType') !== QueryAction.dns)
          return noFindings;
        const type = text(row, 'QueryType');
        if (!ZONE_TRANSFERS.has(type)) return noFindings;
        first ??= time;
        const source = text(row, 'IPAddress');
        const device = text(row, 'DeviceName');
        if (!source || directory.isDnsServer(source) || (device && directory.isDnsServer(device)))
          return noFindings;
        if (time - first < learningMs) {
          if (secondaries.size < SOURCES) secondaries.add(source);
          return noFindings;
        }
        if (secondaries.has(source) || !cooldown.take(source, time)) return noFindings;
        const zone = text(row, 'QueryTarget');
        const server = text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress');
        const account = accountLabel(row);
        return [
          {
            timestamp: text(row, 'Timestamp') || event.timestamp,
            description: `${device ? `${device} (${source})` : source} asked ${server || 'a DNS server'} for a zone transfer (${type}) of ${zone || 'a zone'}`,
            accounts: unique([account]),
            devices: unique([device]),
            ips: [source],
            events: [event],
            targets: { devices: unique([server]) },
          },
        ];
      },
      get size() {
        return secondaries.size + cooldown.size;
      },
    };
  },
};
