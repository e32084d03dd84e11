// What Samba's smb.conf says about its JSON audit logs: the `log level` classes with their levels
// and files (`auth_json_audit:3@/var/log/samba/auth.json`), which audit classes a DC sensor needs and
// at which level, and so which files the Samba audit source should follow.
import { dirname, join } from 'node:path';

/** The JSON audit classes a DC sensor reads, with the least level that logs what it needs (smb.conf(5), "log level"). */
export const requiredSambaAudit = {
  /** 2: failed authentications; 3: successful ones too. */
  auth_json_audit: 3,
  /** 5: every directory change. */
  dsdb_json_audit: 5,
  /** 5: successful password changes and resets. */
  dsdb_password_json_audit: 5,
  /** 5: group membership changes. */
  dsdb_group_json_audit: 5,
} as const;

export interface SambaLogLevel {
  /** The level of every class not named (`log level = 1 …`). */
  readonly all: number;
  readonly classes: ReadonlyMap<string, { readonly level: number; readonly file?: string }>;
}

/** Reads a `log level` value: `1 auth_json_audit:5@/path dsdb_json_audit:5`. */
export function parseSambaLogLevel(value: string): SambaLogLevel {
  let all = 0;
  const classes = new Map<string, { level: number; file?: string }>();
  for (const word of value.split(/[\s,]+/).filter(Boolean)) {
    const match = /^([A-Za-z0-9_]+):(\d+)(?:@(.+))?$/.exec(word);
    if (match) {
      const [, name = '', level = '0', file] = match;
      if (name === 'all') all = Number(level);
      else classes.set(name, { level: Number(level), ...(file ? { file } : {}) });
    } else if (/^\d+$/.test(word)) all = Number(word);
  }
  return { all, classes };
}

/** One required audit class and what the configuration gives it. */
export interface SambaAuditCheck {
  readonly auditClass: keyof typeof requiredSambaAudit;
  readonly required: number;
  readonly level: number;
  readonly file: string;
  readonly ok: boolean;
}

/**
 * The required audit classes as configured: each class's level (its own, else `all`) and the
 * file it is written to (its own, else the `log file`, else Samba's default for the DC process).
 */
export function checkSambaAudit(globals: ReadonlyMap<string, string>): SambaAuditCheck[] {
  const logLevel = parseSambaLogLevel(globals.get('log level') ?? globals.get('debuglevel') ?? '0');
  const logFile = globals.get('log file') ?? '/var/log/samba/log.samba';
  return Object.entries(requiredSambaAudit).map(([name, required]) => {
    const own = logLevel.classes.get(name);
    const level = own?.level ?? logLevel.all;
    const file = own?.file ?? logFile;
    return {
      auditClass: name as keyof typeof requiredSambaAudit,
      required,
      level,
      file: file.startsWith('/') ? file : join(dirname(logFile), file),
      ok: level >= required,
    };
  });
}

/** The files the Samba audit source follows: every file a required class is written to. */
export function sambaAuditFiles(globals: ReadonlyMap<string, string>): string[] {
  return [...new Set(checkSambaAudit(globals).map((c) => c.file))];
}
