// Live detection on packets: frames, one at a time, through the flow decoder, the network
// normaliser and the identity engine, each alert reported as soon as a row raises it. Packets
// arrive in time order, so rows go straight to the engine; `scanFiles` sorts them instead.
import {
  type CapturedFrame,
  FlowDecoder,
  type FlowOptions,
  type FlowStats,
  type OnCaptureDiagnostic,
} from '@palisade/protocols';
import { NetworkNormaliser, type TableRow } from '@palisade/schema';
import type { SigmaLevel } from '@palisade/sigma';
import { type Alert, type AlertEvent, levelOrder } from './alert.ts';
import { IdentityEngine } from './identity/engine.ts';
import type { IdentityScanOptions } from './scan.ts';

export interface WatchOptions {
  /** The identity detectors and their configuration. */
  readonly identity: IdentityScanOptions;
  /** Names the capture in each alert's events, as the file name does in a scan (e.g. `eth0`). */
  readonly source: string;
  /** Alerts below this level are not reported. */
  readonly minLevel?: SigmaLevel;
  /** Receives each alert when it is raised; a returned promise is awaited before the next frame. */
  readonly onAlert: (alert: Alert) => void | Promise<void>;
  /** Receives each Identity row the packets give, in capture order. */
  readonly onRow?: (row: TableRow) => void;
  readonly onDiagnostic?: OnCaptureDiagnostic;
  readonly flow?: Omit<FlowOptions, 'onDiagnostic'>;
}

/** What a watch saw, once its frames have ended. */
export interface WatchSummary {
  readonly frames: number;
  readonly rows: number;
  readonly alerts: number;
  readonly flow: FlowStats;
}

/**
 * Runs the identity detectors over captured frames as they come, until the frames end; then
 * closes every open connection and flushes the engine, so the last exchanges count too.
 * @example
 * const capture = await LiveCapture.start({ interface: 'eth0' });
 * process.once('SIGINT', () => void capture.stop());
 * await watchCapture(capture, { source: 'eth0', identity: { detectors: identityDetectors, config: {} }, onAlert: print });
 */
export async function watchCapture(
  frames: AsyncIterable<CapturedFrame> | Iterable<CapturedFrame>,
  options: WatchOptions,
): Promise<WatchSummary> {
  const decoder = new FlowDecoder({
    ...options.flow,
    ...(options.onDiagnostic ? { onDiagnostic: options.onDiagnostic } : {}),
  });
  const normaliser = new NetworkNormaliser();
  const engine = new IdentityEngine(options.identity.detectors, options.identity.config);
  const minLevel = levelOrder[options.minLevel ?? 'informational'];
  let rows = 0;
  let alerts = 0;

  const report = async (raised: readonly Alert[]) => {
    for (const alert of raised) {
      if (levelOrder[alert.level] < minLevel) continue;
      alerts++;
      await options.onAlert(alert);
    }
  };
  const judge = async (items: ReturnType<FlowDecoder['push']>) => {
    for (const item of items) {
      for (const row of normaliser.push(item)) {
        if (!row.table.startsWith('Identity')) continue;
        rows++;
        options.onRow?.(row);
        const raised = engine.push(row, networkEvent(row, options.source));
        if (raised.length > 0) await report(raised);
      }
    }
  };

  for await (const frame of frames) {
    const items = decoder.push(frame);
    if (items.length > 0) await judge(items);
  }
  await judge(decoder.finish());
  await report(engine.flush());
  return { frames: decoder.stats.frames, rows, alerts, flow: decoder.stats };
}

/** The event an alert cites for a row made from packets: the capture, the DC, the frame number. */
export function networkEvent(row: TableRow, source: string): AlertEvent {
  const extra = row.values.AdditionalFields;
  const frame =
    typeof extra === 'object' && extra !== null && !Array.isArray(extra) && typeof extra.Frame === 'number'
      ? extra.Frame
      : undefined;
  const timestamp = row.values.Timestamp;
  const computer = row.values.DestinationIPAddress;
  return {
    file: source,
    timestamp: typeof timestamp === 'string' ? timestamp : '',
    channel: 'network',
    eventId: 0,
    computer: typeof computer === 'string' ? computer : '',
    ...(frame !== undefined ? { recordId: frame } : {}),
  };
}
