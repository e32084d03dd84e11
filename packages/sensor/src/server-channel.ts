// The sensor's HTTPS client: the instance CA pinned, the sensor's certificate presented on every
// call after registration, optionally through an HTTP CONNECT proxy (the tunnel carries TLS end to
// end, so the proxy sees only host and port). One kept-alive connection serves all calls.
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, type AgentOptions, request as httpsRequest, type RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';

export const channelErrorCodes = [
  'channel/proxy-refused',
  'channel/proxy-unreachable',
  'channel/unreachable',
  'channel/tls',
  'channel/timeout',
  'channel/bad-answer',
] as const;
export type ChannelErrorCode = (typeof channelErrorCodes)[number];

export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: ChannelErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface ChannelOptions {
  /** The instance, e.g. `https://palisade.corp.example.com:8443`. */
  readonly server: URL;
  /** CA certificates to trust (the instance CA once registered); Node's own list when absent. */
  readonly caPem?: string | undefined;
  /** The sensor's key and certificate (mTLS), once registered. */
  readonly client?: { readonly keyPem: string; readonly certPem: string } | undefined;
  /** An HTTP proxy to tunnel through with CONNECT, e.g. `http://proxy.corp:3128`. */
  readonly proxy?: URL | undefined;
  /** Per call (default 60 s). */
  readonly timeoutMs?: number | undefined;
}

export interface ChannelReply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  readonly text: string;
}

/** Calls the instance; rejects with a ChannelError when no HTTP answer came back. */
export class ServerChannel {
  readonly #options: ChannelOptions;
  readonly #agent: Agent | ProxyAgent;

  constructor(options: ChannelOptions) {
    this.#options = options;
    const tls: AgentOptions = {
      keepAlive: true,
      maxSockets: 2,
      ...(options.caPem === undefined ? {} : { ca: [options.caPem] }),
      ...(options.client ? { key: options.client.keyPem, cert: options.client.certPem } : {}),
    };
    this.#agent = options.proxy ? new ProxyAgent(options.proxy, tls) : new Agent(tls);
  }

  get server(): URL {
    return this.#options.server;
  }

  /** Sends JSON (or nothing) and reads a JSON answer. */
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ChannelReply> {
    return this.#request(method, path, body === undefined ? undefined : JSON.stringify(body));
  }

  /**
   * Posts JSON text in parts, written one after the other (buffered batches: their JSON goes out as
   * it was buffered, never parsed, serialised or joined into one string again).
   */
  postJsonParts(path: string, parts: readonly string[]): Promise<ChannelReply> {
    return this.#request('POST', path, parts);
  }

  #request(
    method: 'GET' | 'POST',
    path: string,
    text: string | readonly string[] | undefined,
  ): Promise<ChannelReply> {
    const { server } = this.#options;
    const parts = text === undefined ? [] : typeof text === 'string' ? [text] : text;
    const length = parts.reduce((n, part) => n + Buffer.byteLength(part, 'utf8'), 0);
    const timeoutMs = this.#options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const req: ClientRequest = httpsRequest(
        {
          host: server.hostname,
          port: server.port === '' ? 443 : Number(server.port),
          servername: isAddress(server.hostname) ? undefined : server.hostname,
          path,
          method,
          agent: this.#agent,
          headers: {
            accept: 'application/json',
            ...(text !== undefined
              ? { 'content-type': 'application/json', 'content-length': String(length) }
              : {}),
          },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('error', (error) => reject(classify(error, server, this.#options.proxy)));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch (error) {
              if ((res.statusCode ?? 0) < 300) {
                reject(
                  new ChannelError(
                    'channel/bad-answer',
                    `expected JSON from ${server.origin}${path}, found ${JSON.stringify(text.slice(0, 60))}`,
                    { cause: error },
                  ),
                );
                return;
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
          });
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(
          new ChannelError(
            'channel/timeout',
            `${server.origin} did not answer ${path} within ${timeoutMs} ms`,
          ),
        ),
      );
      req.on('error', (error) => reject(classify(error, server, this.#options.proxy)));
      // One part at a time, each after the socket took the last: a request of several megabytes
      // is not copied into the socket's buffer all at once.
      const write = async () => {
        for (const part of parts) {
          if (!req.write(part, 'utf8')) await new Promise((drained) => req.once('drain', drained));
        }
        req.end();
      };
      write().catch((error: unknown) =>
        req.destroy(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** An HTTPS agent whose connections are CONNECT tunnels through an HTTP proxy. */
class ProxyAgent extends Agent {
  readonly #proxy: URL;

  constructor(proxy: URL, options: AgentOptions) {
    super(options);
    this.#proxy = proxy;
  }

  override createConnection(
    options: RequestOptions,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): undefined {
    // Node's agent accepts the socket through the callback; on failure there is none to give.
    const fail = (error: Error) => callback?.(error, undefined as unknown as Duplex);
    const host = String(options.host);
    const port = Number(options.port);
    const proxy = this.#proxy;
    const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const auth =
      proxy.username === ''
        ? {}
        : {
            'proxy-authorization': `Basic ${Buffer.from(
              `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`,
            ).toString('base64')}`,
          };
    const connect = httpRequest({
      host: proxy.hostname,
      port: proxy.port === '' ? 80 : Number(proxy.port),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...auth },
      agent: false,
    });
    connect.once('connect', (res: IncomingMessage, socket: Socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        fail(
          new ChannelError(
            'channel/proxy-refused',
            `the proxy ${proxy.host} refused to open a tunnel to ${authority}: ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
          ),
        );
        return;
      }
      const tls = tlsConnect({ ...(options as ConnectionOptions), socket });
      callback?.(null, tls);
    });
    connect.once('error', (error) =>
      fail(
        new ChannelError(
          'channel/proxy-unreachable',
          `cannot reach the proxy ${proxy.host}: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    connect.end();
    return undefined;
  }
}

function classify(error: Error, server: URL, proxy: URL | undefined): Error {
  if (error instanceof ChannelError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('ERR_TLS') || /certificate|SSL|TLS|alert/i.test(error.message) || code.includes('CERT'))
    return new ChannelError('channel/tls', `TLS with ${server.host} failed: ${error.message}`, {
      cause: error,
    });
  const via = proxy ? ` through the proxy ${proxy.host}` : '';
  return new ChannelError('channel/unreachable', `cannot reach ${server.host}${via}: ${error.message}`, {
    cause: error,
  });
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
