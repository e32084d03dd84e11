// `palisade sensor register|run|status|doctor`: the sensor's commands, thin over @palisade/sensor.
// Registration says which sensor type the host installed as; run logs progress as JSON lines on
// stderr until SIGINT or SIGTERM.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type DoctorCheck,
  hostProbe,
  loadSensorConfig,
  parseSambaGlobals,
  RegistrationError,
  type RunnerStatus,
  readHostFacts,
  readSensorIdentity,
  registerSensor,
  runDoctor,
  SensorConfigError,
  sambaAuditFiles,
  sensorDirOf,
  sensorEnv,
  sensorFiles,
  sensorKindOf,
  sensorKindTitles,
  startSensor,
} from '@palisade/sensor';
import { ExitCode, type OptionValues } from './commands.ts';
import type { Output } from './output.ts';

declare const PALISADE_VERSION: string;
const version = typeof PALISADE_VERSION === 'string' ? PALISADE_VERSION : 'development';

const text = (value: OptionValues[string]): string | undefined =>
  typeof value === 'string' ? value : undefined;

function url(value: string | undefined, what: string, out: Output, name: string): URL | undefined | null {
  if (value === undefined) return undefined;
  try {
    return new URL(value);
  } catch {
    out.error(
      `${name}: ${what} must be a URL such as https://palisade.corp.example.com:8443, not '${value}'`,
    );
    return null;
  }
}

export async function runSensorRegister(options: OptionValues, out: Output): Promise<number> {
  const name = 'palisade sensor register';
  const env = sensorEnv();
  const server = url(text(options.server), '--server', out, name);
  const proxy = url(text(options.proxy) ?? env.proxy, '--proxy', out, name);
  if (server === null || proxy === null) return ExitCode.usage;
  if (!server) {
    out.error(
      `${name}: --server is required (the instance's address, e.g. https://palisade.corp.example.com:8443)`,
    );
    return ExitCode.usage;
  }
  if (server.protocol !== 'https:') {
    out.error(`${name}: --server must be an https:// URL, not ${server.protocol}`);
    return ExitCode.usage;
  }
  const accessKey = text(options['access-key']) ?? env.accessKey;
  if (!accessKey) {
    out.error(`${name}: give the access key with --access-key or PALISADE_ACCESS_KEY (Settings › Sensors)`);
    return ExitCode.usage;
  }
  let caPem: string | undefined;
  const caFile = text(options['ca-file']);
  if (caFile) {
    try {
      caPem = await readFile(caFile, 'utf8');
    } catch (error) {
      out.error(`${name}: cannot read --ca-file ${caFile}: ${(error as Error).message}`);
      return ExitCode.usage;
    }
  }
  const dir = sensorDirOf(text(options.dir));
  const facts = await readHostFacts(
    hostProbe({
      windowsDomain: env.windowsDomain,
      ...(env.sambaConfig ? { sambaConfig: env.sambaConfig } : {}),
    }),
  );
  const type = sensorKindOf(facts, text(options.type) === 'standalone' ? 'standalone' : 'endpoint');
  try {
    const registration = await registerSensor({
      dir,
      server,
      accessKey,
      proxy,
      caPem,
      facts,
      type,
      version,
    });
    const why = facts.domainController ? ` (${facts.domainController.evidence})` : '';
    await out.write(
      [
        `Installed as ${/^[aeiou]/.test(sensorKindTitles[type]) ? 'an' : 'a'} ${sensorKindTitles[type]}${why}.`,
        `Registered ${registration.name} with ${server.origin} as sensor ${registration.sensorId}.`,
        `Key, certificate and instance CA are in ${dir}; the access key was not kept.`,
        "Next: 'palisade sensor doctor', then 'palisade sensor run' (or start the palisade-sensor service).",
        '',
      ].join('\n'),
    );
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof RegistrationError) {
      out.error(`${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function configOf(dir: string, name: string, out: Output) {
  let identity: Awaited<ReturnType<typeof readSensorIdentity>>;
  try {
    identity = await readSensorIdentity(dir);
  } catch (error) {
    out.error(`${name}: ${(error as Error).message}`);
    return undefined;
  }
  const env = sensorEnv();
  const probe = hostProbe(env.sambaConfig ? { sambaConfig: env.sambaConfig } : {});
  const smb = await probe.readText(probe.sambaConfig);
  try {
    const config = await loadSensorConfig(dir, identity.registration.type, {
      ...(smb === undefined ? {} : { sambaAuditPaths: sambaAuditFiles(parseSambaGlobals(smb)) }),
    });
    return { identity, config, probe };
  } catch (error) {
    if (error instanceof SensorConfigError) {
      out.error(`${name}: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

/** Runs the sensor until SIGINT/SIGTERM (or `signal`). */
export async function runSensorRun(
  options: OptionValues,
  out: Output,
  signal?: AbortSignal,
): Promise<number> {
  const name = 'palisade sensor run';
  const loaded = await configOf(sensorDirOf(text(options.dir)), name, out);
  if (!loaded) return ExitCode.usage;
  const log = (event: object) => out.error(JSON.stringify({ time: new Date().toISOString(), ...event }));
  const sensor = await startSensor({
    config: loaded.config,
    version,
    onEvent: (event) => {
      // One line per batch would drown the log at 10,000 events/s: batches are counted in status.
      if (event.kind === 'buffered' || event.kind === 'acknowledged') return;
      log(event);
    },
  });
  log({
    kind: 'started',
    sensorId: loaded.identity.registration.sensorId,
    server: loaded.identity.registration.server,
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (signal) signal.addEventListener('abort', stop, { once: true });
    else {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }
  });
  await sensor.stop();
  log({ kind: 'stopped' });
  return ExitCode.ok;
}

export async function runSensorStatus(options: OptionValues, out: Output): Promise<number> {
  const name = 'palisade sensor status';
  const dir = sensorDirOf(text(options.dir));
  let identity: Awaited<ReturnType<typeof readSensorIdentity>>;
  try {
    identity = await readSensorIdentity(dir);
  } catch (error) {
    out.error(`${name}: ${(error as Error).message}`);
    return 1;
  }
  let status: RunnerStatus | undefined;
  try {
    status = JSON.parse(await readFile(join(dir, sensorFiles.status), 'utf8')) as RunnerStatus;
  } catch {
    status = undefined;
  }
  const running =
    status !== undefined && isAlive(status.pid) && Date.now() - Date.parse(status.updatedAt) < 10_000;
  if (options.json === true) {
    await out.write(`${JSON.stringify({ registration: identity.registration, running, status }, null, 2)}\n`);
    return ExitCode.ok;
  }
  const r = identity.registration;
  const lines = [
    `Registered to  ${r.server}${r.proxy ? ` through ${r.proxy}` : ''}`,
    `Sensor         ${r.name} (${r.sensorId}), ${sensorKindTitles[r.type]}`,
    `Running        ${running ? `yes, pid ${status?.pid}, since ${status?.startedAt}` : 'no'}`,
  ];
  if (status) {
    lines.push(
      `Lag            ${status.lagSeconds} s`,
      `Buffer         ${status.buffer.batches} batches, ${formatBytes(status.buffer.bytes)} of ${formatBytes(status.buffer.capacityBytes)}`,
      `Delivered      ${status.delivered.batches} batches, ${status.delivered.records} records${status.delivered.lastAt ? `, last ${status.delivered.lastAt}` : ''}`,
      `Last error     ${status.lastError ? `${status.lastError.at} ${status.lastError.message}` : 'none'}`,
      `Clock skew     ${status.clockSkewMs === undefined ? 'unknown' : `${Math.round(status.clockSkewMs / 1000)} s`}`,
      'Sources',
      ...status.sources.map((s) => {
        const issues = Object.values(s.health);
        return `  ${s.id}: ${s.running ? 'running' : 'stopped'}, ${s.records} records${s.lastChunkAt ? `, last ${s.lastChunkAt}` : ''}${issues.length > 0 ? `; ${issues.map((i) => `${i.code}: ${i.message}`).join('; ')}` : ''}`;
      }),
    );
  }
  await out.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

export async function runSensorDoctor(options: OptionValues, out: Output): Promise<number> {
  const name = 'palisade sensor doctor';
  const dir = sensorDirOf(text(options.dir));
  const loaded = await configOf(dir, name, out);
  const checks: DoctorCheck[] = loaded
    ? await runDoctor({
        config: loaded.config,
        probe: loaded.probe,
        readProcStatus: () => readFile('/proc/self/status', 'utf8').catch(() => undefined),
      })
    : [{ name: 'registration', outcome: 'failed', message: `no registered sensor in ${dir}` }];
  if (options.json === true) await out.write(`${JSON.stringify(checks, null, 2)}\n`);
  else {
    const width = Math.max(...checks.map((c) => c.name.length));
    await out.write(
      `${checks.map((c) => `${c.outcome.toUpperCase().padEnd(8)} ${c.name.padEnd(width)}  ${c.message}`).join('\n')}\n`,
    );
  }
  return checks.some((c) => c.outcome === 'failed') ? 1 : ExitCode.ok;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1_048_576) return `${Math.round(bytes / 1024)} KiB`;
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}
