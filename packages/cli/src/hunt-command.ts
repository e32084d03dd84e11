// `palisade hunt`: one KQL query against an instance directory (its event store opened read-only,
// so only while the instance is stopped) or a running instance (its hunting API, with an API
// client's credentials), printed as a table, CSV or MDE's JSON.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import {
  dataLayout,
  defaultDataDir,
  defaultHuntingLimits,
  type HuntingAnswer,
  huntEnvironment,
  huntingAnswer,
  openHuntingReadOnly,
  readHuntConfig,
  runHuntingQuery,
} from '@palisade/server';
import { ExitCode, type HuntFormat, type OptionValues } from './commands.ts';
import { renderHunt } from './hunt-output.ts';
import type { Output } from './output.ts';

const name = 'palisade hunt';

/** What a caller other than the command line can set. */
export interface HuntRun {
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** An error of the query, with its place when it has one: `message (line:column)`. */
interface QueryError {
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

type Answered = { readonly answer: HuntingAnswer } | { readonly errors: readonly QueryError[] };

const text = (value: OptionValues[string]): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** Runs the query and prints its result; returns the exit code. */
export async function runHunt(
  args: readonly string[],
  options: OptionValues,
  out: Output,
  run: HuntRun = {},
): Promise<number> {
  const file = text(options.file);
  if ((file === undefined) === (args.length === 0) || args.length > 1) {
    out.error(
      `${name}: give one query, quoted, or --file FILE${args.length > 1 ? ' (quote the whole query)' : ''}`,
    );
    return ExitCode.usage;
  }
  let query = args[0] ?? '';
  if (file !== undefined) {
    try {
      query = await readFile(file, 'utf8');
    } catch (error) {
      out.error(`${name}: cannot read --file ${file}: ${(error as Error).message}`);
      return ExitCode.usage;
    }
  }
  if (query.trim() === '') {
    out.error(`${name}: the query is empty`);
    return ExitCode.usage;
  }
  const maxRows = Number(text(options['max-rows']) ?? defaultHuntingLimits.maxRows);
  if (!Number.isInteger(maxRows) || maxRows < 1 || maxRows > defaultHuntingLimits.maxRows) {
    out.error(`${name}: --max-rows must be a whole number from 1 to ${defaultHuntingLimits.maxRows}`);
    return ExitCode.usage;
  }
  const server = text(options.server);
  const data = text(options.data);
  if (server !== undefined && data !== undefined) {
    out.error(`${name}: give --data DIR or --server URL, not both`);
    return ExitCode.usage;
  }
  const config = readHuntConfig(run.env);
  let answered: Answered | undefined;
  if (server === undefined) {
    answered = await huntDirectory(
      resolve(data ?? defaultDataDir),
      query,
      maxRows,
      config.duckDbMemoryLimit,
      out,
    );
  } else {
    const clientId = text(options['client-id']);
    const secret = config.clientSecret;
    if (clientId === undefined || secret === undefined) {
      out.error(
        `${name}: --server needs --client-id and the client's secret in ${huntEnvironment.clientSecret} (an API client with AdvancedQuery.Read.All)`,
      );
      return ExitCode.usage;
    }
    let ca: string | undefined;
    const caFile = text(options['ca-file']);
    if (caFile !== undefined) {
      try {
        ca = await readFile(caFile, 'utf8');
      } catch (error) {
        out.error(`${name}: cannot read --ca-file ${caFile}: ${(error as Error).message}`);
        return ExitCode.usage;
      }
    }
    answered = await huntServer(server, { clientId, secret, ca }, query, out);
  }
  if (answered === undefined) return ExitCode.inputErrors;
  if ('errors' in answered) {
    for (const e of answered.errors)
      out.error(`${name}: ${e.message}${e.line === undefined ? '' : ` (${e.line}:${e.column})`}`);
    return ExitCode.inputErrors;
  }
  const answer = { Schema: answered.answer.Schema, Results: answered.answer.Results.slice(0, maxRows) };
  if (answered.answer.Results.length > maxRows)
    out.error(`${name}: only the first ${maxRows} rows are shown`);
  await out.write(renderHunt(answer, options.format as HuntFormat));
  return ExitCode.ok;
}

/** Runs the query on the event store of an instance directory, opened read-only. */
async function huntDirectory(
  dataDir: string,
  query: string,
  maxRows: number,
  memoryLimit: string,
  out: Output,
): Promise<Answered | undefined> {
  if (!existsSync(join(dataDir, dataLayout.events))) {
    out.error(
      `${name}: ${dataDir} holds no instance (no ${dataLayout.events}); give its data directory with --data DIR`,
    );
    return undefined;
  }
  let opened: Awaited<ReturnType<typeof openHuntingReadOnly>>;
  try {
    opened = await openHuntingReadOnly(dataDir, memoryLimit);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    out.error(
      code === 'store/already-open'
        ? `${name}: the instance in ${dataDir} is running and holds its event store; hunt through it with --server URL --client-id ID, or stop it first`
        : `${name}: cannot open the event store of ${dataDir}: ${(error as Error).message}`,
    );
    return undefined;
  }
  try {
    const outcome = await runHuntingQuery(opened.engine, query, { maxRows: maxRows + 1 });
    if (outcome.value) return { answer: huntingAnswer(outcome.value) };
    return {
      errors: outcome.diagnostics
        .filter((d) => d.severity === 'error')
        .map((d) => ({
          message: d.message,
          ...(d.span ? { line: d.span.line, column: d.span.column } : {}),
        })),
    };
  } finally {
    await opened.close();
  }
}

interface Reply {
  readonly status: number;
  readonly json: unknown;
}

function httpsCall(
  url: URL,
  body: string,
  headers: Record<string, string>,
  ca: string | undefined,
): Promise<Reply> {
  return new Promise((done, failed) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(ca ? { ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          done({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', failed);
    req.end(body);
  });
}

/** Runs the query through a running instance's `POST /api/advancedqueries/run`. */
async function huntServer(
  server: string,
  client: { readonly clientId: string; readonly secret: string; readonly ca: string | undefined },
  query: string,
  out: Output,
): Promise<Answered | undefined> {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    out.error(
      `${name}: --server must be a URL such as https://palisade.corp.example.com:8443, not '${server}'`,
    );
    return undefined;
  }
  try {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.secret,
    }).toString();
    const token = await httpsCall(
      new URL('/oauth2/token', base),
      form,
      { 'content-type': 'application/x-www-form-urlencoded' },
      client.ca,
    );
    const accessToken = (token.json as { access_token?: unknown }).access_token;
    if (token.status !== 200 || typeof accessToken !== 'string') {
      out.error(
        `${name}: the instance refused the client credentials (${token.status} ${detailOf(token.json)})`,
      );
      return undefined;
    }
    const reply = await httpsCall(
      new URL('/api/advancedqueries/run', base),
      JSON.stringify({ Query: query }),
      { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      client.ca,
    );
    if (reply.status === 200) return { answer: reply.json as HuntingAnswer };
    const problem = reply.json as { errors?: { detail: string; line?: number; column?: number }[] };
    if (reply.status === 400 && Array.isArray(problem.errors)) {
      return {
        errors: problem.errors.map((e) => ({
          message: e.detail,
          ...(e.line === undefined ? {} : { line: e.line, column: e.column }),
        })),
      };
    }
    out.error(`${name}: the instance answered ${reply.status} ${detailOf(reply.json)}`);
    return undefined;
  } catch (error) {
    out.error(`${name}: cannot reach ${base.origin}: ${(error as Error).message}`);
    return undefined;
  }
}

function detailOf(json: unknown): string {
  const detail = (json as { detail?: unknown } | null)?.detail;
  return typeof detail === 'string' ? detail : '';
}
