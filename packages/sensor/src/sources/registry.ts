// The sources a sensor can run, by name: each turns its settings into Source instances. The sensor
// reads this map; a new source is one entry here and one section in the configuration.
import { readFile } from 'node:fs/promises';
import type { SourceName, SourceSettings } from '../config.ts';
import { chunkLimits, type Source } from '../source.ts';
import { CaptureSource } from './capture-source.ts';
import { DirectorySource } from './directory-source.ts';
import { evtxFilesSource } from './evtx-files-source.ts';
import { auditdSource } from './linux-auditd-source.ts';
import { linuxHostSource, linuxSoftwareSource } from './linux-inventory.ts';
import { sambaAuditSource } from './samba-audit-source.ts';
import { windowsChannelSource } from './windows-channel-source.ts';

export interface BuiltSources {
  readonly sources: Source[];
  /** Heartbeat members the sources contribute (capture counters). */
  readonly heartbeat: () => Record<string, unknown>;
}

/** What every source takes besides its own section. */
export interface SourceLimits {
  /** Records a chunk (one buffered batch) holds at most. */
  readonly maxChunkRecords: number;
}

type Factory<N extends SourceName> = (
  settings: NonNullable<SourceSettings[N]>,
  limits: SourceLimits,
) => Promise<Source[]> | Source[];

export const sourceFactories: { [N in SourceName]?: Factory<N> } = {
  evtx: (settings, limits) => [evtxFilesSource({ paths: settings.paths, ...limits })],
  windowsEvents: (settings, limits) =>
    settings.channels.map((channel) => windowsChannelSource({ channel, ...limits })),
  // Samba writes one JSON audit file per class (smb.conf's log level `class:level@file`).
  sambaAudit: (settings, limits) => settings.paths.map((path) => sambaAuditSource({ path, ...limits })),
  capture: (settings) => [
    new CaptureSource({
      interface: settings.interface,
      filter: settings.filter,
      dcAddresses: settings.dcAddresses,
      snapLength: settings.snapLength,
      command: settings.command,
    }),
  ],
  auditd: (settings, limits) => [auditdSource({ path: settings.path, ...limits })],
  // Host facts (DeviceInfo, DeviceNetworkInfo) and installed software, each sent when it changes.
  inventory: (settings) => {
    const intervalMs = (settings.intervalSeconds ?? 3_600) * 1000;
    return [linuxHostSource({ intervalMs }), linuxSoftwareSource({ intervalMs })];
  },
  directorySync: async (settings, limits) => {
    // The account's password lives in its own file (0600), not in config.json.
    const password = (await readFile(settings.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    return [
      new DirectorySource({
        url: settings.url,
        bindDn: settings.bindDn,
        password,
        ...(settings.baseDn ? { baseDn: settings.baseDn } : {}),
        ...(settings.caFile ? { caFile: settings.caFile } : {}),
        ...(settings.tlsServerName ? { tlsServerName: settings.tlsServerName } : {}),
        ...(settings.startTls ? { startTls: true } : {}),
        ...(settings.intervalSeconds ? { intervalSeconds: settings.intervalSeconds } : {}),
        ...(settings.sensitiveGroups ? { sensitiveGroups: settings.sensitiveGroups } : {}),
        ...limits,
      }),
    ];
  },
};

/** Builds the enabled sources; `enabled` is the instance's switch per source (true when absent). */
export async function buildSources(
  settings: SourceSettings,
  enabled: Partial<Record<SourceName, boolean>>,
  limits: SourceLimits = { maxChunkRecords: chunkLimits.maxChunkRecords },
): Promise<BuiltSources> {
  const sources: Source[] = [];
  for (const [name, section] of Object.entries(settings) as [SourceName, { enabled?: boolean }][]) {
    if (!section || section.enabled === false || enabled[name] === false) continue;
    const factory = sourceFactories[name] as Factory<SourceName> | undefined;
    if (!factory) throw new Error(`unknown source ${name}`);
    sources.push(...(await factory(section as never, limits)));
  }
  return {
    sources,
    heartbeat: () => {
      const capture = sources.filter((s): s is CaptureSource => s instanceof CaptureSource);
      if (capture.length === 0) return {};
      const parts = capture.map((c) => c.health());
      const sum = (pick: (h: (typeof parts)[number]) => number | undefined) =>
        parts.reduce((total, h) => total + (pick(h) ?? 0), 0);
      const failing = parts.find((h) => h.failing);
      return {
        capture: {
          packetsReceived: sum((h) => h.packetsReceived),
          packetsDropped: sum((h) => h.packetsDropped),
          failing: failing !== undefined,
          ...(failing?.error ? { error: failing.error } : {}),
        },
      };
    },
  };
}
