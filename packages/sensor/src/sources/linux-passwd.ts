// User names for user ids, from passwd(5) text: how audit records' numeric ids become the
// AccountName columns. The audit normaliser takes any resolver; this is the default one.
import { readFileSync } from 'node:fs';

/** The user name of a numeric user id, when known. */
export type UidResolver = (uid: number) => string | undefined;

/**
 * A resolver over passwd(5) text (`name:password:uid:gid:gecos:home:shell` lines); comments and
 * lines without a numeric uid are skipped. The first line naming a uid wins, as getpwuid does.
 */
export function passwdResolver(text: string): UidResolver {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, , uid] = line.split(':');
    if (!name || uid === undefined || !/^\d+$/.test(uid)) continue;
    const id = Number(uid);
    if (!names.has(id)) names.set(id, name);
  }
  return (uid) => names.get(uid);
}

/**
 * A resolver reading a passwd file on first use (default `/etc/passwd`); an unreadable file
 * resolves nothing, so records keep their numeric ids.
 */
export function passwdFileResolver(path = '/etc/passwd'): UidResolver {
  let resolve: UidResolver | undefined;
  return (uid) => {
    if (!resolve) {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        // no passwd file (a minimal container): ids stay numeric in AdditionalFields
      }
      resolve = passwdResolver(text);
    }
    return resolve(uid);
  };
}
