// Finds the route of a request: paths compiled once into patterns with named parameters; a path
// known under other methods is a 405 with Allow, an unknown one a 404.
import type { HttpMethod } from '../auth/authorize.ts';
import type { Route } from './route.ts';

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly HttpMethod[] }
  | { readonly kind: 'not-found' };

interface Compiled {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export interface Router {
  readonly routes: readonly Route[];
  match(method: string, path: string): RouteMatch;
}

/** A router over a route table; a table with a route declared twice is a bug and throws. */
export function createRouter(routes: readonly Route[]): Router {
  const seen = new Set<string>();
  const compiled: Compiled[] = routes.map((route) => {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new Error(`route ${key} is declared twice`);
    seen.add(key);
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        const param = /^:([A-Za-z_][A-Za-z0-9_]*)$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(param[1] as string);
        return '([^/]+)';
      })
      .join('/');
    return { route, pattern: new RegExp(`^${source}/?$`), names };
  });
  return {
    routes,
    match(method, path) {
      const allow: HttpMethod[] = [];
      for (const { route, pattern, names } of compiled) {
        const m = pattern.exec(path);
        if (!m) continue;
        if (route.method !== method) {
          allow.push(route.method);
          continue;
        }
        const params: Record<string, string> = {};
        for (let i = 0; i < names.length; i++) {
          const raw = m[i + 1] ?? '';
          let value: string;
          try {
            value = decodeURIComponent(raw);
          } catch {
            // A malformed escape names no resource.
            return { kind: 'not-found' };
          }
          params[names[i] as string] = value;
        }
        return { kind: 'found', route, params };
      }
      return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
    },
  };
}
