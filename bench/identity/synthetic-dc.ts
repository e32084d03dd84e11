// Synthetic but realistic domain-controller traffic: a day of Security events for 10,000 users
// on 500 hosts (TGT and service-ticket requests, network logons, NTLM validations, the odd
// typo), with a handful of attacks embedded at known times. Deterministic (seeded).
import type { EvtxEvent } from '@palisade/evtx';

/** What an embedded attack must be found as. */
export interface EmbeddedAttack {
  readonly name: string;
  readonly externalId: number;
  /** An account or IP the alert must name. */
  readonly names: string;
}

const DC = 'DC01.corp.example.com';
const DOMAIN = 'CORP';
const REALM = 'CORP.EXAMPLE.COM';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let record = 0;
function event(time: number, eventId: number, data: Record<string, string>): EvtxEvent {
  record++;
  const iso = new Date(time).toISOString().replace('Z', '0000Z');
  return {
    recordId: record,
    timestamp: iso,
    writtenTime: iso,
    system: {
      provider: 'Microsoft-Windows-Security-Auditing',
      eventId,
      channel: 'Security',
      computer: DC,
      eventRecordId: record,
      timeCreated: iso,
    },
    eventData: data,
  };
}

const services = Array.from({ length: 40 }, (_, i) => `svc_app${i}`);

/** A day of traffic, in time order, and the attacks hidden in it. */
export function syntheticDay(
  users = 10_000,
  hosts = 500,
  seed = 7,
): { events: EvtxEvent[]; attacks: EmbeddedAttack[] } {
  const random = prng(seed);
  const start = Date.UTC(2026, 10, 2, 0, 0, 0);
  const day = 86_400_000;
  const events: EvtxEvent[] = [];
  const ipOf = (h: number) => `10.1.${h >> 8}.${h & 255}`;
  for (let u = 0; u < users; u++) {
    const user = `user${u}`;
    const host = u % hosts;
    // Each user works a few sessions a day: a TGT, service tickets, network logons.
    const sessions = 1 + Math.floor(random() * 3);
    for (let s = 0; s < sessions; s++) {
      let t = start + Math.floor(random() * (day - 3_600_000));
      const ip = `::ffff:${ipOf(host)}`;
      if (random() < 0.05) {
        events.push(
          event(t, 4771, {
            TargetUserName: user,
            TargetSid: `S-1-5-21-1-2-3-${1000 + u}`,
            ServiceName: `krbtgt/${REALM}`,
            TicketOptions: '0x40810010',
            Status: '0x18',
            PreAuthType: '2',
            IpAddress: ip,
            IpPort: '50000',
          }),
        );
        t += 2000;
      }
      events.push(
        event(t, 4768, {
          TargetUserName: user,
          TargetDomainName: REALM,
          TargetSid: `S-1-5-21-1-2-3-${1000 + u}`,
          ServiceName: 'krbtgt',
          ServiceSid: 'S-1-5-21-1-2-3-502',
          TicketOptions: '0x40810010',
          Status: '0x0',
          TicketEncryptionType: '0x12',
          PreAuthType: '2',
          IpAddress: ip,
          IpPort: '50001',
        }),
      );
      for (let k = 0; k < 6; k++) {
        t += 1000 + Math.floor(random() * 60_000);
        const svc =
          k < 3 ? `HOST${(host + k) % hosts}$` : (services[Math.floor(random() * services.length)] as string);
        events.push(
          event(t, 4769, {
            TargetUserName: `${user}@${REALM}`,
            TargetDomainName: REALM,
            ServiceName: svc,
            ServiceSid: 'S-1-5-21-1-2-3-9999',
            TicketOptions: '0x40810000',
            TicketEncryptionType: '0x12',
            IpAddress: ip,
            IpPort: '50002',
            Status: '0x0',
          }),
        );
        events.push(
          event(t + 5, 4624, {
            TargetUserName: user,
            TargetDomainName: DOMAIN,
            TargetUserSid: `S-1-5-21-1-2-3-${1000 + u}`,
            LogonType: '3',
            LogonProcessName: 'Kerberos',
            AuthenticationPackageName: 'Kerberos',
            WorkstationName: '-',
            IpAddress: ipOf(host),
            IpPort: '0',
            TargetLogonId: '0x1',
          }),
        );
      }
      if (random() < 0.2)
        events.push(
          event(t + 10, 4776, {
            PackageName: 'MICROSOFT_AUTHENTICATION_PACKAGE_V1_0',
            TargetUserName: user,
            Workstation: `HOST${host}`,
            Status: '0x0',
          }),
        );
    }
  }

  // The attacks, at known times.
  const attacks: EmbeddedAttack[] = [];
  const at = (hour: number) => start + hour * 3_600_000;
  // A password spray: one password tried against 60 accounts from a rogue host.
  for (let i = 0; i < 60; i++)
    events.push(
      event(at(3) + i * 500, 4771, {
        TargetUserName: `user${i * 97}`,
        ServiceName: `krbtgt/${REALM}`,
        Status: '0x18',
        PreAuthType: '2',
        IpAddress: '::ffff:10.66.6.6',
        IpPort: '4000',
      }),
    );
  attacks.push({ name: 'password spray', externalId: 2023, names: '10.66.6.6' });
  // Kerberoasting: RC4 service tickets for 12 service accounts in a minute.
  for (let i = 0; i < 12; i++)
    events.push(
      event(at(5) + i * 3000, 4769, {
        TargetUserName: `user42@${REALM}`,
        TargetDomainName: REALM,
        ServiceName: `svc_app${i}`,
        TicketOptions: '0x40810000',
        TicketEncryptionType: '0x17',
        IpAddress: '::ffff:10.66.6.7',
        IpPort: '4001',
        Status: '0x0',
      }),
    );
  attacks.push({ name: 'Kerberoasting', externalId: 2410, names: '10.66.6.7' });
  // AS-REP roasting of three accounts without pre-authentication.
  for (let i = 0; i < 3; i++)
    events.push(
      event(at(7) + i * 1000, 4768, {
        TargetUserName: `legacy${i}`,
        TargetDomainName: REALM,
        ServiceName: 'krbtgt',
        TicketOptions: '0x40800010',
        Status: '0x0',
        TicketEncryptionType: '0x17',
        PreAuthType: '0',
        IpAddress: '::ffff:10.66.6.8',
        IpPort: '4002',
      }),
    );
  attacks.push({ name: 'AS-REP roasting', externalId: 2412, names: '10.66.6.8' });
  // DCSync by a user account.
  for (const guid of ['1131f6aa-9c07-11d1-f79f-00c04fc2dcd2', '1131f6ad-9c07-11d1-f79f-00c04fc2dcd2']) {
    events.push(
      event(at(9), 4662, {
        SubjectUserSid: 'S-1-5-21-1-2-3-1555',
        SubjectUserName: 'user555',
        SubjectDomainName: DOMAIN,
        SubjectLogonId: '0x9',
        ObjectServer: 'DS',
        ObjectType: '%{19195a5b-6da0-11d0-afd3-00c04fd930c9}',
        ObjectName: '%{5e5b0a4b-1234-4c62-991a-0facbeda640c}',
        OperationType: 'Object Access',
        AccessMask: '0x100',
        Properties: `%%7688 {${guid}} {19195a5b-6da0-11d0-afd3-00c04fd930c9}`,
      }),
    );
  }
  attacks.push({ name: 'DCSync', externalId: 2006, names: 'CORP\\user555' });
  // A member added to Domain Admins.
  events.push(
    event(at(11), 4728, {
      MemberName: 'CN=user777,CN=Users,DC=corp,DC=example,DC=com',
      MemberSid: 'S-1-5-21-1-2-3-1777',
      TargetUserName: 'Domain Admins',
      TargetDomainName: DOMAIN,
      TargetSid: 'S-1-5-21-1-2-3-512',
      SubjectUserSid: 'S-1-5-21-1-2-3-1888',
      SubjectUserName: 'user888',
      SubjectDomainName: DOMAIN,
      SubjectLogonId: '0x8',
      PrivilegeList: '-',
    }),
  );
  attacks.push({ name: 'sensitive group addition', externalId: 2024, names: 'CORP\\user888' });
  // Authentication by a honeytoken account.
  events.push(
    event(at(13), 4768, {
      TargetUserName: 'decoy_admin',
      TargetDomainName: REALM,
      ServiceName: 'krbtgt',
      TicketOptions: '0x40810010',
      Status: '0x0',
      TicketEncryptionType: '0x12',
      PreAuthType: '2',
      IpAddress: '::ffff:10.66.6.9',
      IpPort: '4003',
    }),
  );
  attacks.push({ name: 'honeytoken authentication', externalId: 2014, names: '10.66.6.9' });
  // The DSRM administrator password changed.
  events.push(
    event(at(15), 4794, {
      SubjectUserSid: 'S-1-5-21-1-2-3-1999',
      SubjectUserName: 'user999',
      SubjectDomainName: DOMAIN,
      SubjectLogonId: '0x7',
      Workstation: 'DC01',
      Status: '0x0',
    }),
  );
  attacks.push({ name: 'DSRM password change', externalId: 2438, names: 'CORP\\user999' });

  events.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  return { events, attacks };
}
