// DNS as Defender for Identity records it: the query types reconnaissance uses (AXFR, IXFR, TXT,
// MX, NS, SRV, ANY, DNSKEY) become IdentityQueryEvents rows named "DNS query"; ordinary A/AAAA/PTR
// lookups are not recorded. Every message also teaches the device-name resolver what it can:
// dynamic updates of a device's own address, PTR and A/AAAA answers.
import { type DnsMessage, dnsTypeName } from '@palisade/protocols';
import { QueryAction } from '../action-types.ts';
import type { TableRow } from '../rows.ts';
import type { DeviceNames } from './network-devices.ts';
import { networkRow, type Where } from './network-row.ts';

// RFC 1035 §3.2.3 (QTYPE), RFC 1995 (IXFR), RFC 4034 (DNSKEY).
const RECORDED_TYPES: ReadonlySet<number> = new Set([252, 251, 16, 15, 2, 33, 255, 48]);
const OPCODE_QUERY = 0;
const OPCODE_UPDATE = 5;

/** The reverse-lookup name of an IPv4 address, as the address. */
function addressOfReverseName(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa\.?$/i.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}

/**
 * The rows one DNS message gives and what it teaches `names`.
 * @param fromClient whether the message went to the server's port 53 (a query or an update).
 */
export function dnsMessageRows(
  message: DnsMessage,
  fromClient: boolean,
  at: Where,
  transport: 'udp' | 'tcp',
  names: DeviceNames,
): TableRow[] {
  const { header } = message;
  if (fromClient && !header.qr && header.opcode === OPCODE_UPDATE) {
    // RFC 2136: the update section travels in the authority section.
    for (const r of message.authorities)
      if ((r.data.kind === 'a' || r.data.kind === 'aaaa') && r.data.address === at.client.ip && r.ttl > 0)
        names.learn(at.client.ip, r.name, 'dns-update');
    return [];
  }
  if (!fromClient && header.qr) {
    for (const r of message.answers) {
      if (r.data.kind === 'ptr') {
        const ip = addressOfReverseName(r.name);
        if (ip) names.learn(ip, r.data.ptrdname, 'dns-answer');
      } else if ((r.data.kind === 'a' || r.data.kind === 'aaaa') && message.questions.length > 0) {
        names.learn(r.data.address, r.name, 'dns-answer');
      }
    }
    for (const r of message.additionals)
      if (r.data.kind === 'a' || r.data.kind === 'aaaa') names.learn(r.data.address, r.name, 'dns-answer');
    return [];
  }
  if (!fromClient || header.qr || header.opcode !== OPCODE_QUERY) return [];
  const rows: TableRow[] = [];
  for (const q of message.questions) {
    if (!RECORDED_TYPES.has(q.type)) continue;
    rows.push(
      networkRow(
        'IdentityQueryEvents',
        at,
        {
          ActionType: QueryAction.dns,
          Protocol: 'Dns',
          QueryType: dnsTypeName(q.type),
          QueryTarget: q.name,
          Query: q.name,
        },
        { Transport: transport, QueryId: header.id, Class: q.className },
      ),
    );
  }
  return rows;
}
