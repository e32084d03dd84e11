// `palisade sensor doctor`: the prerequisites of the deployment docs, checked on this host — the
// registration and its certificate, the server reachable (directly or through the proxy) and
// accepting the certificate, the clock, the audit settings (Samba's JSON audit classes, Windows'
// advanced audit policy), permission to capture, and a teamed or bonded NIC (whose traffic a
// capture on one member misses).
import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SensorConfig } from './config.ts';
import type { CommandRunner, HostProbe } from './host-facts.ts';
import { parseSambaGlobals } from './host-facts.ts';
import { readSensorIdentity, sensorChannel, sensorFiles } from './registration.ts';
import { checkSambaAudit } from './samba-settings.ts';
import { maxClockSkewMs } from './sensor-runner.ts';

export const doctorOutcomes = ['ok', 'warning', 'failed', 'skipped'] as const;
export type DoctorOutcome = (typeof doctorOutcomes)[number];

export interface DoctorCheck {
  readonly name: string;
  readonly outcome: DoctorOutcome;
  readonly message: string;
}

export interface DoctorOptions {
  readonly config: SensorConfig;
  readonly probe: HostProbe;
  /** The process's effective capabilities (CapEff of /proc/self/status), for the capture check. */
  readonly readProcStatus?: () => Promise<string | undefined>;
  readonly now?: () => Date;
}

/** Windows advanced audit subcategories a DC sensor needs (MDI's event collection list, reference §2.3). */
export const requiredWindowsAudit = [
  'Credential Validation',
  'Kerberos Authentication Service',
  'Kerberos Service Ticket Operations',
  'Computer Account Management',
  'Distribution Group Management',
  'Security Group Management',
  'User Account Management',
  'Directory Service Access',
  'Directory Service Changes',
  'Security System Extension',
] as const;

export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const now = options.now?.() ?? new Date();
  const dir = options.config.dir;
  let identity: Awaited<ReturnType<typeof readSensorIdentity>> | undefined;
  try {
    identity = await readSensorIdentity(dir);
    const modes = await Promise.all(
      [sensorFiles.key, sensorFiles.certificate].map(async (name) => ({
        name,
        mode: (await stat(join(dir, name))).mode & 0o777,
      })),
    );
    const open = modes.filter((m) => process.platform !== 'win32' && (m.mode & 0o077) !== 0);
    checks.push(
      open.length === 0
        ? {
            name: 'registration',
            outcome: 'ok',
            message: `registered as ${identity.registration.type} sensor ${identity.registration.name} (${identity.registration.sensorId}) with ${identity.registration.server}`,
          }
        : {
            name: 'registration',
            outcome: 'failed',
            message: `${open.map((m) => `${join(dir, m.name)} is mode ${m.mode.toString(8)}`).join(', ')}: only the sensor's account may read its key (chmod 600)`,
          },
    );
  } catch (error) {
    checks.push({ name: 'registration', outcome: 'failed', message: (error as Error).message });
  }

  if (identity) {
    checks.push(certificateCheck(identity.certPem, identity.caPem, now));
    checks.push(...(await serverChecks(identity, now)));
  } else {
    checks.push({ name: 'certificate', outcome: 'skipped', message: 'not registered' });
    checks.push({ name: 'server', outcome: 'skipped', message: 'not registered' });
  }
  checks.push(...(await auditChecks(options, identity?.registration.type)));
  if (options.config.sources.capture && options.config.sources.capture.enabled !== false) {
    checks.push(await captureCheck(options));
    checks.push(await nicCheck(options.probe.run, options.config.sources.capture.interface));
  } else {
    checks.push({ name: 'capture', outcome: 'skipped', message: 'no capture source is configured' });
  }
  return checks;
}

function certificateCheck(certPem: string, caPem: string, now: Date): DoctorCheck {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))
      return {
        name: 'certificate',
        outcome: 'failed',
        message: "the sensor's certificate was not issued by the instance CA it pins",
      };
    const notAfter = new Date(cert.validTo);
    const notBefore = new Date(cert.validFrom);
    if (now < notBefore || now > notAfter)
      return {
        name: 'certificate',
        outcome: 'failed',
        message: `the certificate is valid from ${notBefore.toISOString()} to ${notAfter.toISOString()}; register the sensor again`,
      };
    const days = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
    return {
      name: 'certificate',
      outcome: days < 30 ? 'warning' : 'ok',
      message: `valid until ${notAfter.toISOString()} (${days} days)`,
    };
  } catch (error) {
    return {
      name: 'certificate',
      outcome: 'failed',
      message: `cannot read the certificate: ${(error as Error).message}`,
    };
  }
}

async function serverChecks(
  identity: Awaited<ReturnType<typeof readSensorIdentity>>,
  now: Date,
): Promise<DoctorCheck[]> {
  const channel = sensorChannel(identity, 15_000);
  const via = identity.registration.proxy
    ? ` through the proxy ${new URL(identity.registration.proxy).host}`
    : ' directly';
  try {
    const sentAt = Date.now();
    const reply = await channel.call('GET', '/api/sensor/config');
    const receivedAt = Date.now();
    const server: DoctorCheck =
      reply.status === 200
        ? {
            name: 'server',
            outcome: 'ok',
            message: `${identity.registration.server} reached${via}; it accepts this sensor's certificate`,
          }
        : {
            name: 'server',
            outcome: 'failed',
            message: `${identity.registration.server} reached${via} but answered ${reply.status}${reply.status === 401 || reply.status === 403 ? ': the sensor was deleted or its certificate revoked; register it again' : ''}`,
          };
    const date = Date.parse(String(reply.headers.date ?? ''));
    if (Number.isNaN(date))
      return [server, { name: 'clock', outcome: 'skipped', message: 'the server sent no Date header' }];
    // The Date header has whole seconds: allow one more second of error.
    const skew = sentAt + (receivedAt - sentAt) / 2 - date - 500;
    const clock: DoctorCheck =
      Math.abs(skew) > maxClockSkewMs
        ? {
            name: 'clock',
            outcome: 'failed',
            message: `this host's clock is ${Math.round(skew / 1000)} s off the server's; Kerberos and the detectors allow 300 s`,
          }
        : {
            name: 'clock',
            outcome: 'ok',
            message: `within ${Math.max(1, Math.round(Math.abs(skew) / 1000))} s of the server's (checked ${now.toISOString()})`,
          };
    return [server, clock];
  } catch (error) {
    return [
      { name: 'server', outcome: 'failed', message: (error as Error).message },
      { name: 'clock', outcome: 'skipped', message: 'the server could not be reached' },
    ];
  } finally {
    channel.close();
  }
}

async function auditChecks(options: DoctorOptions, type: string | undefined): Promise<DoctorCheck[]> {
  const { probe } = options;
  if (probe.platform === 'win32') {
    if (type !== 'domain-controller')
      return [{ name: 'audit policy', outcome: 'skipped', message: 'not a domain controller' }];
    const output = await probe.run('auditpol.exe', ['/get', '/category:*']);
    if (output === undefined)
      return [
        {
          name: 'audit policy',
          outcome: 'failed',
          message: 'auditpol /get /category:* failed (run as an administrator)',
        },
      ];
    const settings = parseAuditpol(output);
    const missing = requiredWindowsAudit.filter((name) => {
      const value = settings.get(name.toLowerCase()) ?? '';
      return !/success/i.test(value) || !/failure/i.test(value);
    });
    return [
      missing.length === 0
        ? {
            name: 'audit policy',
            outcome: 'ok',
            message: `${requiredWindowsAudit.length} subcategories audit success and failure`,
          }
        : {
            name: 'audit policy',
            outcome: 'failed',
            message: `audit success and failure for: ${missing.join(', ')}`,
          },
    ];
  }
  if (type !== 'domain-controller')
    return [{ name: 'Samba audit', outcome: 'skipped', message: 'not a domain controller' }];
  const smb = await probe.readText(probe.sambaConfig);
  if (smb === undefined) {
    return [
      {
        name: 'Samba audit',
        outcome: 'failed',
        message: `${probe.sambaConfig} cannot be read`,
      },
    ];
  }
  const audit = checkSambaAudit(parseSambaGlobals(smb));
  const low = audit.filter((a) => !a.ok);
  return [
    low.length === 0
      ? {
          name: 'Samba audit',
          outcome: 'ok',
          message: `JSON audit classes at their levels: ${audit.map((a) => `${a.auditClass}:${a.level} → ${a.file}`).join(', ')}`,
        }
      : {
          name: 'Samba audit',
          outcome: 'failed',
          message: `raise in ${probe.sambaConfig} [global] log level: ${low.map((a) => `${a.auditClass} is ${a.level}, needs ${a.required}`).join('; ')}`,
        },
  ];
}

/** `auditpol /get /category:*` lines: two-space-indented subcategory, then its setting. */
export function parseAuditpol(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s{2,}(\S.*?)\s{2,}(\S.*)$/.exec(line);
    if (match?.[1] && match[2]) settings.set(match[1].trim().toLowerCase(), match[2].trim());
  }
  return settings;
}

async function captureCheck(options: DoctorOptions): Promise<DoctorCheck> {
  const version = await options.probe.run('tcpdump', ['--version']);
  if (version === undefined)
    return {
      name: 'capture',
      outcome: 'failed',
      message: 'tcpdump is not installed (apt-get install tcpdump)',
    };
  const status = await (options.readProcStatus?.() ?? Promise.resolve(undefined));
  const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(status ?? '')?.[1];
  // CAP_NET_RAW is capability 13 (linux/capability.h).
  const netRaw = capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << 13n)) !== 0n;
  if (!netRaw)
    return {
      name: 'capture',
      outcome: 'failed',
      message: 'this process lacks CAP_NET_RAW: run the sensor as root or grant it the capability',
    };
  return {
    name: 'capture',
    outcome: 'ok',
    message: `${version.split('\n')[0] ?? 'tcpdump'} present; CAP_NET_RAW held`,
  };
}

async function nicCheck(run: CommandRunner, name: string): Promise<DoctorCheck> {
  const output = await run('ip', ['-d', '-j', 'link', 'show']);
  if (output === undefined)
    return { name: 'network adapter', outcome: 'skipped', message: 'ip -d -j link show failed' };
  const links = JSON.parse(output) as {
    ifname: string;
    master?: string;
    linkinfo?: { info_kind?: string };
  }[];
  const grouped = links.filter((l) => ['bond', 'team'].includes(l.linkinfo?.info_kind ?? ''));
  const members = links.filter((l) => grouped.some((g) => g.ifname === l.master));
  const onMember = members.find((m) => m.ifname === name);
  if (onMember)
    return {
      name: 'network adapter',
      outcome: 'warning',
      message: `${name} is a member of ${onMember.master}: capture on ${onMember.master} instead, or traffic of its other members is missed`,
    };
  if (grouped.length > 0)
    return {
      name: 'network adapter',
      outcome: 'warning',
      message: `teamed or bonded adapters: ${grouped.map((g) => `${g.ifname} (${g.linkinfo?.info_kind})`).join(', ')}; capture on the team/bond device`,
    };
  return { name: 'network adapter', outcome: 'ok', message: 'no teamed or bonded adapter' };
}
