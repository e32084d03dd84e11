// HTTPS calls to an instance on 127.0.0.1 for the end-to-end tests: a call that trusts only the
// instance CA (optionally with a sensor's client certificate), and a sensor key with its CSR.
// Before @peculiar/x509: its dependency tsyringe needs the Reflect metadata API while loading.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test replies are read field by field
  readonly json: any;
}

export interface CallOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** A client certificate (sensor routes). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Writes the body itself instead of `body` (streaming); resolves once the reply is read. */
  readonly write?: (req: ClientRequest) => void;
}

export interface Target {
  readonly port: number;
  readonly caPem: string;
}

/** An HTTPS call that checks the server's certificate against the instance CA. */
export function call(target: Target, path: string, options: CallOptions = {}): Promise<Reply> {
  return new Promise((done, failed) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: encodeURI(path),
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: [target.caPem],
        agent: false,
        ...(options.tls ?? {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          done({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', failed);
    if (options.write) options.write(req);
    else req.end(options.body);
  });
}

/** A new P-256 key and a CSR for it, as a sensor makes them. */
export async function sensorKey(name = 'dc1'): Promise<{ csr: string; key: string }> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: `CN=${name}`, keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { csr: csr.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/** The service name whose installation (System 7045) the marker rule alerts on. */
export const MARKER_SERVICE = 'palisade-marker';

/**
 * Writes `DIR/rules/marker-service.yml`, one Sigma rule as `palisade up --rules` reads it: a
 * service installed under the marker name. Each matching event is one alert on the computer that
 * logged it. Returns the rules folder.
 */
export async function writeMarkerRule(dir: string): Promise<string> {
  const rules = join(dir, 'rules');
  await mkdir(rules);
  await writeFile(
    join(rules, 'marker-service.yml'),
    [
      'title: Palisade test marker service installed',
      'id: 5d0c1c9e-8a1f-4f52-9d0b-2b7f3f1d0a11',
      'status: test',
      'logsource:',
      '  product: windows',
      '  service: system',
      'detection:',
      '  selection:',
      '    EventID: 7045',
      `    ServiceName: '${MARKER_SERVICE}'`,
      '  condition: selection',
      'level: high',
      '',
    ].join('\n'),
  );
  return rules;
}
