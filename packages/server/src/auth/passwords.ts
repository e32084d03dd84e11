// Local-user passwords: argon2id hashing and verification, the rehash-on-login check, and the
// password policy. Verification of an unknown user costs the same as of a known one, so the
// login answer time does not reveal which accounts exist.

import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';

/** Argon2id cost parameters (memory in KiB, passes, lanes). */
export interface Argon2Parameters {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/**
 * OWASP Password Storage Cheat Sheet, "Argon2id": m=19456 KiB (19 MiB), t=2, p=1 — the
 * configuration its summary names (equivalent alternatives: m=47104/t=1, m=12288/t=3,
 * m=9216/t=4, m=7168/t=5; all p=1). Salt 16 bytes and output 32 bytes are the library
 * defaults. Measured on the development machine (2 vCPU, Node 20, @node-rs/argon2 2.2.1):
 * hash ≈ 5 ms median (4.6–11 ms), verify ≈ 5 ms. m=47104/t=1 took ≈ 8 ms and RFC 9106's
 * second recommendation (m=64 MiB, t=3) ≈ 38 ms with p=1, so the cost can be raised by
 * configuration: stored hashes are upgraded on the next login (`needsRehash`).
 */
export const owaspArgon2id: Argon2Parameters = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// `Algorithm` is a const enum in the library's typings, which isolated modules cannot read;
// 2 is its Argon2id member.
const argon2id: Algorithm = 2;
// `Version` V0x13 (argon2 version 19), the library default and the current version.
const version0x13 = 1;

/**
 * The password policy, after NIST SP 800-63B §5.1.1.2: a minimum length (12 here, above NIST's
 * 8), a generous maximum, every printable Unicode character allowed including spaces, NFKC
 * normalisation, no composition rules (upper/lower/digit/symbol rules make passwords weaker
 * in practice), and a check against common, repetitive, sequential and context-specific values.
 */
export const passwordPolicy = {
  minLength: 12,
  /** Long enough for any passphrase, short enough to bound hashing work per request. */
  maxLength: 256,
  /** Fewer distinct characters than this is "repetitive" (`aaaaaaaaaaaa`, `abababababab`). */
  minDistinctCharacters: 5,
} as const;

/** Longer inputs are refused before hashing, whatever the account (bounds work per request). */
export const maxPasswordInputLength = 1024;

export const passwordProblemCodes = [
  'password/too-short',
  'password/too-long',
  'password/control-character',
  'password/repetitive',
  'password/sequential',
  'password/common',
  'password/contains-context',
] as const;
export type PasswordProblemCode = (typeof passwordProblemCodes)[number];

export interface PasswordProblem {
  readonly code: PasswordProblemCode;
  readonly message: string;
}

/** Words specific to the user or the instance that a password must not contain. */
export interface PasswordContext {
  readonly userName?: string;
  readonly displayName?: string;
  readonly email?: string;
  /** Further words to refuse, e.g. the instance or company name. */
  readonly words?: readonly string[];
  /** Further refused passwords, e.g. an offline breached-password list (compared case-blind). */
  readonly blocklist?: ReadonlySet<string>;
}

// Bases of the most common passwords (NCSC/HIBP top lists). A password whose letters, once
// leetspeak and trailing digits/symbols are removed, equal one of these is refused, which
// catches `Password2024!`, `Welcome123456`, `P@ssw0rd12345`. Deployments add a breached list
// through `PasswordContext.blocklist`.
const commonBases = new Set([
  'password',
  'passwort',
  'motdepasse',
  'welcome',
  'qwerty',
  'qwertyuiop',
  'qwertz',
  'azerty',
  'asdfgh',
  'asdfghjkl',
  'zxcvbnm',
  'admin',
  'administrator',
  'root',
  'letmein',
  'changeme',
  'iloveyou',
  'monkey',
  'dragon',
  'football',
  'baseball',
  'sunshine',
  'princess',
  'trustno',
  'secret',
  'master',
  'login',
  'summer',
  'winter',
  'spring',
  'autumn',
  'palisade',
  'defender',
  'security',
]);
const commonWholePasswords = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'qazwsxedcrfv',
  'zaq12wsxcde3',
  '123qweasdzxc',
]);
const leet: Readonly<Record<string, string>> = {
  '@': 'a',
  '4': 'a',
  '0': 'o',
  '1': 'i',
  '3': 'e',
  $: 's',
  '5': 's',
  '7': 't',
};

function normalise(password: string): string {
  return password.normalize('NFKC');
}

function baseOf(password: string): string {
  const lower = password.toLowerCase().replace(/[\d\W_]+$/u, '');
  return [...lower]
    .map((c) => leet[c] ?? c)
    .join('')
    .replace(/[^a-z]/g, '');
}

function isSequential(chars: readonly string[]): boolean {
  const codes = chars.map((c) => c.codePointAt(0) ?? 0);
  const step = (codes[1] ?? 0) - (codes[0] ?? 0);
  if (Math.abs(step) !== 1) return false;
  return codes.every((code, i) => i === 0 || code - (codes[i - 1] ?? 0) === step);
}

function contextWords(context: PasswordContext): string[] {
  const words = [
    context.userName,
    context.displayName,
    context.email?.split('@')[0],
    ...(context.words ?? []),
  ];
  const result: string[] = [];
  for (const word of words) {
    if (word === undefined) continue;
    // A display name "Ada Lovelace" contributes "ada" and "lovelace" as well as the whole.
    for (const part of [word, ...word.split(/[\s._@\\-]+/)]) {
      const lower = normalise(part).toLowerCase();
      if (lower.length >= 4) result.push(lower);
    }
  }
  return result;
}

/** Checks a new password against the policy; an empty list means it is acceptable. */
export function checkPasswordPolicy(password: string, context: PasswordContext = {}): PasswordProblem[] {
  const problems: PasswordProblem[] = [];
  const value = normalise(password);
  const chars = [...value];
  const lower = value.toLowerCase();
  if (chars.length < passwordPolicy.minLength) {
    problems.push({
      code: 'password/too-short',
      message: `expected at least ${passwordPolicy.minLength} characters, found ${chars.length}`,
    });
  }
  if (chars.length > passwordPolicy.maxLength) {
    problems.push({
      code: 'password/too-long',
      message: `expected at most ${passwordPolicy.maxLength} characters, found ${chars.length}`,
    });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    problems.push({ code: 'password/control-character', message: 'control characters are not allowed' });
  }
  if (chars.length > 0 && new Set(chars).size < passwordPolicy.minDistinctCharacters) {
    problems.push({
      code: 'password/repetitive',
      message: `expected at least ${passwordPolicy.minDistinctCharacters} different characters`,
    });
  } else if (chars.length > 2 && isSequential(chars)) {
    problems.push({
      code: 'password/sequential',
      message: 'a run of consecutive characters is too easy to guess',
    });
  }
  if (commonWholePasswords.has(lower) || commonBases.has(baseOf(value)) || context.blocklist?.has(lower)) {
    problems.push({ code: 'password/common', message: 'this password is too common' });
  }
  if (contextWords(context).some((word) => lower.includes(word))) {
    problems.push({
      code: 'password/contains-context',
      message: 'the password must not contain the user name or other words about the account or instance',
    });
  }
  return problems;
}

/** Hashes a password with argon2id; returns the PHC string to store. */
export async function hashPassword(password: string, parameters = owaspArgon2id): Promise<string> {
  return hash(normalise(password), { ...parameters, algorithm: argon2id });
}

/** Result of checking a password against a stored hash. */
export type PasswordVerification =
  | { readonly ok: true; readonly needsRehash: boolean }
  | {
      readonly ok: false;
      readonly reason:
        | 'password/unknown-user'
        | 'password/mismatch'
        | 'password/bad-hash'
        | 'password/too-long';
    };

// One dummy hash per parameter set: the unknown-user path verifies against it so that it costs
// the same as a real check. Call `verifyPassword(undefined, '')` at start-up to compute it early.
const dummyHashes = new Map<string, Promise<string>>();

function dummyHash(parameters: Argon2Parameters): Promise<string> {
  const key = `${parameters.memoryCost}/${parameters.timeCost}/${parameters.parallelism}`;
  let value = dummyHashes.get(key);
  if (value === undefined) {
    value = hashPassword(randomBytes(32).toString('hex'), parameters);
    dummyHashes.set(key, value);
  }
  return value;
}

/**
 * Verifies `password` against `stored` (the user's PHC string, or `undefined` when no such
 * user exists). Both cases run one argon2 verification with the same cost.
 */
export async function verifyPassword(
  stored: string | undefined,
  password: string,
  parameters = owaspArgon2id,
): Promise<PasswordVerification> {
  if (password.length > maxPasswordInputLength) return { ok: false, reason: 'password/too-long' };
  const target = stored ?? (await dummyHash(parameters));
  let matches: boolean;
  try {
    matches = await verify(target, normalise(password));
  } catch {
    // A stored value that is not a PHC argon2 string: refuse rather than fail the request.
    return { ok: false, reason: 'password/bad-hash' };
  }
  if (stored === undefined) return { ok: false, reason: 'password/unknown-user' };
  if (!matches) return { ok: false, reason: 'password/mismatch' };
  return { ok: true, needsRehash: needsRehash(stored, parameters) };
}

/**
 * True when a stored hash was made with another algorithm, version or cost than the current
 * parameters; the caller then stores `hashPassword(password)` after a successful login.
 */
export function needsRehash(stored: string, parameters = owaspArgon2id): boolean {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(stored);
  } catch {
    return true;
  }
  return (
    options.algorithm !== argon2id ||
    options.version !== version0x13 ||
    options.memoryCost !== parameters.memoryCost ||
    options.timeCost !== parameters.timeCost ||
    options.parallelism !== parameters.parallelism
  );
}
