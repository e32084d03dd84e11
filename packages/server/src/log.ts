// The instance's logger: one JSON object per line on stderr, pino's field names and level numbers
// (so pino tooling reads it), child loggers per component, and every record passed through
// `redact` before it is written, so no password, key, token or ticket reaches the log.
import { redact } from './auth/redact.ts';

export const logLevels = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type LogLevel = keyof typeof logLevels;

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose records carry `bindings` too (`{ component: 'http' }`, `{ reqId }`). */
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  /** Records below this level are dropped (default info). */
  readonly level?: LogLevel;
  /** Where each line goes (default stderr). */
  readonly write?: (line: string) => void;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** A JSON-lines logger; see the file header. */
export function createLogger(options: LoggerOptions = {}, bindings: LogFields = {}): Logger {
  const threshold = logLevels[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? Date.now;
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (logLevels[level] < threshold) return;
    const record = redact({ level: logLevels[level], time: now(), ...bindings, ...fields, msg });
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (more) => createLogger(options, { ...bindings, ...more }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger({ write: () => undefined });
