// `palisade up`: creates the instance on the first run (domain from --domain or asked on a
// terminal), reopens it on later runs, and serves it over HTTPS until SIGINT or SIGTERM. What
// only the first run knows (the administrator's one-time password, the access key) is printed once.
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { compileRuleSet, type IdentityEngineConfig, type RuleSet } from '@palisade/detect';
import {
  createLogger,
  dataLayout,
  InstanceError,
  type Logger,
  type RunningInstance,
  readUpConfig,
  startInstance,
  upEnvironment,
} from '@palisade/server';
import { formatSigmaDiagnostic, loadSigmaPaths, windowsPipeline } from '@palisade/sigma';
import { ExitCode, type OptionValues } from './commands.ts';
import { loadIdentityConfig } from './identity-config.ts';
import type { Output } from './output.ts';

declare const PALISADE_VERSION: string;
const version = typeof PALISADE_VERSION === 'string' ? PALISADE_VERSION : 'development';

/** What a caller other than the command line can set: when to stop, the environment, a domain prompt. */
export interface UpRun {
  /** Stops the instance when aborted; default SIGINT or SIGTERM. */
  readonly signal?: AbortSignal;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Asks for the domain on the first run; default a prompt when stdin is a terminal. */
  readonly askDomain?: () => Promise<string>;
  /** Called once the instance listens (tests read the URL and the first run's secrets). */
  readonly onListening?: (instance: RunningInstance) => void;
  /** Default: JSON lines on stderr. */
  readonly log?: Logger;
}

const name = 'palisade up';

function strings(v: OptionValues[string]): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** Runs the instance until it is stopped; returns the exit code. */
export async function runUp(
  args: readonly string[],
  options: OptionValues,
  out: Output,
  run: UpRun = {},
): Promise<number> {
  if (args.length > 0) {
    out.error(`${name}: unexpected argument '${args[0]}'`);
    return ExitCode.usage;
  }
  const flags = {
    data: strings(options.data)[0],
    domain: strings(options.domain)[0],
    listen: strings(options.listen)[0],
  };
  const { config, problems } = readUpConfig(flags, run.env);
  for (const p of problems) out.error(`${name}: ${p}`);
  if (!config) return ExitCode.usage;

  let identityConfig: IdentityEngineConfig = {};
  const identityFile = strings(options['identity-config'])[0];
  if (identityFile) {
    const loaded = loadIdentityConfig(identityFile, name, out);
    if (!loaded) return ExitCode.usage;
    identityConfig = loaded;
  }
  const ruleSet = loadRules(strings(options.rules), out);
  if (ruleSet === null) return ExitCode.usage;

  let running: RunningInstance;
  try {
    running = await startInstance({
      dataDir: config.dataDir,
      domain: config.domain,
      askDomain: run.askDomain ?? (process.stdin.isTTY ? askOnTerminal : undefined),
      adminPassword: config.adminPassword,
      keyPassphrase: config.keyPassphrase,
      duckDbMemoryLimit: config.duckDbMemoryLimit,
      hunting: { timeoutMs: config.huntingTimeoutMs },
      listen: config.listen,
      ruleSet,
      identityConfig,
      log: run.log ?? createLogger(),
      version,
    });
  } catch (e) {
    out.error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof InstanceError ? ExitCode.usage : ExitCode.startFailed;
  }
  await out.write(describeStart(running));
  run.onListening?.(running);

  await stopped(run.signal);
  await running.close();
  return ExitCode.ok;
}

/** Sigma rules from --rules folders, compiled once; undefined for none, null when none loaded. */
function loadRules(dirs: readonly string[], out: Output): RuleSet | undefined | null {
  if (dirs.length === 0) return undefined;
  const loaded = loadSigmaPaths(dirs);
  const ruleSet = compileRuleSet(loaded.documents, windowsPipeline());
  for (const d of [...loaded.diagnostics, ...ruleSet.diagnostics]) out.error(formatSigmaDiagnostic(d));
  if (loaded.documents.length === 0) {
    out.error(`${name}: no Sigma rule could be loaded from ${dirs.join(', ')}`);
    return null;
  }
  out.error(
    `loaded ${loaded.documents.length} of ${loaded.attempted} Sigma rules; ${ruleSet.stats.active} apply to Windows logs`,
  );
  return ruleSet;
}

function describeStart(running: RunningInstance): string {
  const { instance, created } = running;
  const lines: string[] = [];
  if (created) {
    lines.push(
      `Created the Palisade instance of ${instance.record.domain} in ${instance.dataDir}`,
      `  administrator:     ${created.adminName}`,
      created.adminPassword === undefined
        ? `  password:          from ${upEnvironment.adminPassword}`
        : `  one-time password: ${created.adminPassword}   (shown this once; change it at the first sign-in)`,
      `  sensor access key: ${created.accessKey}   (shown this once; regenerate it in Settings)`,
    );
  } else {
    lines.push(`Opened the Palisade instance of ${instance.record.domain} in ${instance.dataDir}`);
  }
  lines.push(
    `Serving ${running.url}`,
    `  CA certificate:    ${join(instance.dataDir, dataLayout.pki, 'ca.pem')} (SHA-256 ${instance.ca.certificate.fingerprint256})`,
    'Stop with Ctrl-C.',
    '',
  );
  return lines.join('\n');
}

async function askOnTerminal(): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question("The directory's DNS domain (e.g. contoso.local): ");
  } finally {
    prompt.close();
  }
}

/** Resolves when `signal` aborts, or on SIGINT/SIGTERM without one. */
function stopped(signal: AbortSignal | undefined): Promise<void> {
  if (signal) {
    return signal.aborted
      ? Promise.resolve()
      : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
