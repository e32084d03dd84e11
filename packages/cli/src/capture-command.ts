// `palisade capture`: captures a domain controller's traffic live with tcpdump, runs the identity
// detectors on it and prints each alert as it is raised; packet and drop counters go to stderr
// periodically and when SIGINT or SIGTERM stops the capture.
import { closeSync, openSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Alert, type IdentityEngineConfig, identityDetectors, watchCapture } from '@palisade/detect';
import {
  type CaptureDiagnostic,
  CaptureError,
  formatCaptureDiagnostic,
  LiveCapture,
  type LiveCaptureEvent,
  type LiveCaptureStats,
} from '@palisade/protocols';
import { type CaptureFormat, ExitCode, type OptionValues } from './commands.ts';
import { loadIdentityConfig } from './identity-config.ts';
import type { Output } from './output.ts';

/** What a caller other than the command line can set: when to stop, and how tcpdump is run. */
export interface CaptureRun {
  /** Stops the capture when aborted; default SIGINT or SIGTERM. */
  readonly signal?: AbortSignal;
  /** The tcpdump command, e.g. `['ip', 'netns', 'exec', 'lab', 'tcpdump']`; default `['tcpdump']`. */
  readonly tcpdump?: readonly string[];
}

function strings(v: OptionValues[string]): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

const name = 'palisade capture';

/** Runs a live capture until it is stopped; returns the exit code. */
export async function runCapture(
  args: readonly string[],
  options: OptionValues,
  out: Output,
  run: CaptureRun = {},
): Promise<number> {
  const iface = strings(options.interface)[0];
  const filter = strings(options.filter)[0];
  const dcAddresses = strings(options['dc-address']);
  const format = (strings(options.format)[0] ?? 'text') as CaptureFormat;
  const statsSeconds = Number(strings(options['stats-interval'])[0] ?? '10');
  const bufferText = strings(options['buffer-size'])[0];
  const bufferSizeKiB = bufferText === undefined ? undefined : Number(bufferText);
  const usage = (message: string) => {
    out.error(`${name}: ${message}`);
    return ExitCode.usage;
  };
  if (args.length > 0) return usage(`unexpected argument '${args[0]}'; give the interface with --interface`);
  if (!iface) return usage('--interface is required (the interface facing the domain controller, e.g. eth0)');
  const badAddress = dcAddresses.find((a) => isIP(a) === 0);
  if (badAddress !== undefined)
    return usage(`--dc-address must be an IPv4 or IPv6 address, not '${badAddress}'`);
  if (filter !== undefined && dcAddresses.length > 0)
    return usage('--dc-address shapes the default filter; with --filter, put the addresses in the filter');
  if (!Number.isFinite(statsSeconds) || statsSeconds < 0)
    return usage(
      `--stats-interval must be a number of seconds (0 for only at the end), not '${options['stats-interval']}'`,
    );
  if (bufferSizeKiB !== undefined && !(Number.isInteger(bufferSizeKiB) && bufferSizeKiB > 0))
    return usage(`--buffer-size must be a whole number of KiB, not '${bufferText}'`);

  let config: IdentityEngineConfig = {};
  const identityFile = strings(options['identity-config'])[0];
  if (identityFile) {
    const loaded = loadIdentityConfig(identityFile, name, out);
    if (!loaded) return ExitCode.usage;
    config = loaded;
  }

  const outputFile = strings(options.output)[0];
  let fd: number | undefined;
  if (outputFile) {
    try {
      fd = openSync(outputFile, 'w');
    } catch (e) {
      out.error(`${name}: cannot write ${outputFile}: ${e instanceof Error ? e.message : String(e)}`);
      return ExitCode.inputErrors;
    }
  }

  const counts = { rows: 0, alerts: 0, streamErrors: 0, decoder: 0 };
  let capture: LiveCapture;
  try {
    capture = await LiveCapture.start({
      interface: iface,
      ...(filter !== undefined ? { filter } : {}),
      ...(dcAddresses.length > 0 ? { dcAddresses } : {}),
      ...(bufferSizeKiB !== undefined ? { bufferSizeKiB } : {}),
      ...(run.tcpdump ? { command: run.tcpdump } : {}),
      statsIntervalMs: Math.round(statsSeconds * 1000),
      onDiagnostic: (d: CaptureDiagnostic) => {
        if (d.severity === 'error') counts.streamErrors++;
        out.error(`${name}: ${iface}: ${formatCaptureDiagnostic(d)}`);
      },
      onEvent: (e: LiveCaptureEvent) => {
        if (e.kind === 'message') out.error(`${name}: ${e.text}`);
        else if (e.kind === 'stats' && !e.stats.final) out.error(statsLine(iface, e.stats, counts));
      },
    });
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (!(e instanceof CaptureError)) throw e;
    out.error(`${name}: ${e.message}`);
    const commandLine = e.code === 'capture/bad-filter' || e.code === 'capture/bad-interface';
    return commandLine ? ExitCode.usage : ExitCode.inputErrors;
  }

  out.error(`listening on ${iface} with filter: ${capture.filter}`);
  if (filter === undefined && capture.dcAddresses.length === 0)
    out.error(
      `note: ${iface} has no address here, so the DC's dynamic RPC ports (DRSUAPI, Netlogon, …) are not captured; give --dc-address`,
    );
  out.error(`identity detectors: ${identityDetectors.length}${config.testMode ? ' (test mode)' : ''}`);

  // SIGINT and SIGTERM stop tcpdump, which flushes what it has; the watch then ends by itself.
  const stop = () => void capture.stop();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  if (run.signal?.aborted) stop();
  else if (run.signal) run.signal.addEventListener('abort', stop, { once: true });
  else for (const s of signals) process.once(s, stop);

  let failure: CaptureError | undefined;
  try {
    await watchCapture(capture, {
      source: iface,
      identity: { detectors: identityDetectors, config },
      onRow: () => {
        counts.rows++;
      },
      onDiagnostic: () => {
        counts.decoder++;
      },
      onAlert: async (alert) => {
        counts.alerts++;
        const text = renderAlert(alert, format);
        if (fd !== undefined) writeSync(fd, text);
        else {
          await out.write(text);
          // The reader of stdout went away (`| head`): nothing more to say.
          if (out.closed) stop();
        }
      },
    });
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    failure = e;
  } finally {
    stop();
    if (run.signal) run.signal.removeEventListener('abort', stop);
    else for (const s of signals) process.off(s, stop);
    if (fd !== undefined) closeSync(fd);
  }
  const stats = await capture.stop();
  if (failure) out.error(`${name}: ${failure.message}`);
  out.error(statsLine(iface, stats, counts));
  if (counts.decoder > 0)
    out.error(
      `decoding: ${plural(counts.decoder, 'problem')} (frames that did not decode, streams with packets missing)`,
    );
  return failure || counts.streamErrors > 0 ? ExitCode.inputErrors : ExitCode.ok;
}

// One line of counts: what palisade read and judged, and what tcpdump says it captured and lost.
function statsLine(iface: string, s: LiveCaptureStats, counts: { rows: number; alerts: number }): string {
  const t = s.tcpdump;
  const tcpdump = t
    ? `; tcpdump: ${t.captured} captured, ${t.receivedByFilter} received by filter, ${t.droppedByKernel} dropped by kernel, ${t.droppedByInterface} dropped by interface`
    : '';
  const when = s.final ? 'capture stopped' : 'capturing';
  return `${when} on ${iface}: ${plural(s.frames, 'frame')}, ${plural(s.bytes, 'byte')}, ${plural(counts.rows, 'identity row')}, ${plural(counts.alerts, 'alert')}${tcpdump}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One alert as a line of text or of JSON. */
export function renderAlert(a: Alert, format: CaptureFormat): string {
  if (format === 'json') return `${JSON.stringify(a)}\n`;
  const id = a.externalId !== undefined ? ` [${a.externalId}]` : '';
  return `${a.timestamp}  ${a.level.padEnd(13)} ${a.title}${id}${a.description ? `: ${a.description}` : ''}\n`;
}
