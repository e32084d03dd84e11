// Runs tshark, the reference, over bench/pcap's replica the way an analyst extracts the same
// facts Palisade's decoders produce: `tshark -r FILE -T fields` with those fields, output
// discarded, timed as a whole process with its peak RSS read through GNU time.
import { spawnSync } from 'node:child_process';

const GNU_TIME = '/usr/bin/time';

/**
 * What Palisade's network rows hold, as tshark 4.0 fields: addresses and ports; the Kerberos
 * request, answer or error; NTLM's user, domain and workstation; LDAP binds, results and search
 * filters (tshark has no field for a whole filter, so its parts); SMB2 commands, statuses and
 * sessions; DCE-RPC interfaces and opnums, with SAM-R's RIDs; DNS questions and the answers that
 * name devices.
 */
export const tsharkFields = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ip.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'kerberos.msg_type',
  'kerberos.CNameString',
  'kerberos.crealm',
  'kerberos.realm',
  'kerberos.SNameString',
  'kerberos.padata_type',
  'kerberos.kdc_options',
  'kerberos.etype',
  'kerberos.error_code',
  'kerberos.addr_nb',
  'ntlmssp.auth.username',
  'ntlmssp.auth.domain',
  'ntlmssp.auth.hostname',
  'ldap.messageID',
  'ldap.protocolOp',
  'ldap.name',
  'ldap.resultCode',
  'ldap.errorMessage',
  'ldap.baseObject',
  'ldap.scope',
  'ldap.attributeDesc',
  'ldap.assertionValue',
  'ldap.present',
  'ldap.AttributeDescription',
  'smb2.cmd',
  'smb2.nt_status',
  'smb2.sesid',
  'dcerpc.cn_bind_to_uuid',
  'dcerpc.opnum',
  'samr.rid',
  'dns.id',
  'dns.flags.opcode',
  'dns.qry.name',
  'dns.qry.type',
  'dns.ptr.domain_name',
  'dns.a',
] as const;

/** One timed tshark run. */
export interface TsharkRun {
  readonly seconds: number;
  /** Peak resident set size in KiB; undefined without GNU time. */
  readonly peakRssKb: number | undefined;
}

/** tshark's version line, or why it cannot run here. */
export type TsharkProbe = { readonly version: string } | { readonly missing: string };

/** Asks tshark for its version: whether it runs here at all. */
export function probeTshark(): TsharkProbe {
  const probe = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    return {
      missing: `tshark not runnable (${probe.error?.message ?? `status ${probe.status}`}); install tshark`,
    };
  return { version: probe.stdout.split('\n')[0] ?? 'tshark' };
}

/** The tshark command line for `path`; `-n` turns name resolution off, so nothing is looked up. */
export function tsharkArgs(path: string): string[] {
  return ['-n', '-r', path, '-T', 'fields', ...tsharkFields.flatMap((f) => ['-e', f])];
}

/** Times one tshark process over `path`, stdout to /dev/null, under `GNU time -v` when present. */
export function timeTshark(path: string): TsharkRun {
  const withTime = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;
  const [command, args] = withTime
    ? [GNU_TIME, ['-v', 'tshark', ...tsharkArgs(path)]]
    : ['tshark', tsharkArgs(path)];
  const start = performance.now();
  const run = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) throw new Error(`tshark exited with ${run.status}:\n${run.stderr.slice(-2000)}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr)?.[1];
  return { seconds, peakRssKb: rss === undefined ? undefined : Number(rss) };
}
