// Request bodies: read up to a limit (413 past it, without buffering the rest), then parsed as
// JSON or as a form by the route's declaration; a wrong media type is 415, bad JSON 400.
import type { IncomingMessage } from 'node:http';
import { createProblem, problemFromJsonSyntax } from '../api/problem.ts';
import { type BodyKind, fail, failWith, HttpProblem } from './route.ts';

function tooLarge(limit: number, found: string): HttpProblem {
  return new HttpProblem(
    createProblem('payload-too-large', {
      detail: `expected a body of at most ${limit} bytes, found ${found}`,
    }),
    { connection: 'close' },
  );
}

/** Reads the whole body, refusing it past `limit` bytes. The rest of a refused body is drained unread. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Draining lets the client read the 413 instead of a reset mid-upload; nothing is kept.
    request.resume();
    throw tooLarge(limit, String(declared));
  }
  // Listeners rather than `for await`: leaving that loop early destroys the request, and with it
  // the socket the 413 must go out on.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Stop keeping anything; the rest flows into the void while the 413 is answered.
      request.off('data', onData);
      request.off('end', onEnd);
      request.resume();
      chunks.length = 0;
      reject(tooLarge(limit, 'more'));
    };
    const onEnd = () => resolve(Buffer.concat(chunks, size));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', reject);
  });
}

function mediaType(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The body as the route declares it: JSON (any value), a form (`Record<string, string>`), or nothing. */
export async function parseBody(request: IncomingMessage, kind: BodyKind, limit: number): Promise<unknown> {
  if (kind === 'none') {
    // Read and dropped, so a stray body cannot desynchronise a kept-alive connection.
    await readBody(request, limit);
    return undefined;
  }
  const type = mediaType(request);
  const bytes = await readBody(request, limit);
  const path = request.url ?? '';
  if (kind === 'form') {
    if (type !== 'application/x-www-form-urlencoded') {
      fail('unsupported-media-type', `expected application/x-www-form-urlencoded, found ${type || 'none'}`);
    }
    return Object.fromEntries(new URLSearchParams(bytes.toString('utf8')));
  }
  if (bytes.length === 0) return undefined;
  if (type !== 'application/json' && !type.endsWith('+json')) {
    fail('unsupported-media-type', `expected application/json, found ${type || 'none'}`);
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return failWith(problemFromJsonSyntax(error as SyntaxError, path.split('?')[0]));
  }
}
