/**
 * What the Admin API's tests share: a server on loopback over a real PGlite directory (or a PostgreSQL
 * database), a client that speaks HTTP to it as any other would, and a child process running `main.ts`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatLine, type LogFields } from './log.js';
import { startAdminApi, type AdminApi, type AdminApiOptions } from './server.js';

/** The bootstrap key of every test server: the first organization admin's (m-ada's) admin key. */
export const BOOTSTRAP_KEY = 'oak_test-bootstrap-key-0123456789abcdefghijklmnop';

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
  readonly text: string;
}

export interface Client {
  /** `key`: an admin key, or `null` for none. A string body is sent as it is; anything else as JSON. */
  call(key: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
}

export function client(url: () => string): Client {
  return {
    async call(key, method, path, body, headers = {}) {
      const init: RequestInit & { headers: Record<string, string> } = { method, headers: { ...headers } };
      if (key !== null) init.headers['x-api-key'] = key;
      if (body !== undefined) {
        init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as NonNullable<RequestInit['body']>) : JSON.stringify(body);
        init.headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url()}${path}`, init);
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
}

export interface Harness extends Client {
  api: AdminApi;
  readonly dataDir: string;
  readonly logs: string[];
  /** Admin keys issued in the tests by member: m-ada's is the bootstrap key. */
  readonly keys: Map<string, string>;
  key(memberId: string): string;
  /** Issues an admin key for `memberId` through the API (as m-ada) and remembers it. */
  issueKey(memberId: string): Promise<string>;
  /** Closes the server and opens a new one on the same data directory. */
  restart(options?: Partial<AdminApiOptions>): Promise<void>;
  close(): Promise<void>;
}

/** A server on a fresh PGlite directory, seeded with the sample organization; `m-ada` holds `BOOTSTRAP_KEY`. */
export async function startHarness(options: Partial<AdminApiOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'admin-api-'));
  const logs: string[] = [];
  const open = (more: Partial<AdminApiOptions>) =>
    startAdminApi({ dataDir: join(dataDir, 'db'), bootstrapKey: BOOTSTRAP_KEY, log: (event, fields) => logs.push(formatForTest(event, fields)), minRevisionWaitMs: 1_000, ...options, ...more });
  let api = await open({});
  const keys = new Map<string, string>([['m-ada', BOOTSTRAP_KEY]]);
  const http = client(() => api.url);
  const harness: Harness = {
    get api() {
      return api;
    },
    set api(value) {
      api = value;
    },
    dataDir,
    logs,
    keys,
    call: http.call,
    key(memberId) {
      const key = keys.get(memberId);
      if (key === undefined) throw new Error(`no admin key for ${memberId} yet`);
      return key;
    },
    async issueKey(memberId) {
      const reply = await http.call(BOOTSTRAP_KEY, 'POST', `/api/admin/users/${encodeURIComponent(memberId)}/admin-keys`, { name: `${memberId} in the tests` });
      if (reply.status !== 201) throw new Error(`issuing a key for ${memberId}: ${reply.status} ${reply.text}`);
      keys.set(memberId, reply.body.secret);
      return reply.body.secret as string;
    },
    async restart(more = {}) {
      await api.close();
      api = await open(more);
    },
    async close() {
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The server's own line format, so tests read what an operator would. */
const formatForTest = (event: string, fields?: LogFields) => formatLine(event, fields);

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** `main.ts` in a child process, as an operator runs it; its stdout lines kept, every wait bounded. */
export class AdminApiProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<() => void>();

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const listener of [...this.listeners]) listener();
    });
    createInterface({ input: child.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
        for (const listener of [...this.listeners]) listener();
      }),
    );
  }

  static start(env: Record<string, string>): AdminApiProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./main.ts', import.meta.url))], {
      cwd: repositoryRoot,
      env: { ...process.env, PORT: '0', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new AdminApiProcess(child);
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first stdout line matching, already printed or to come, within `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((line) => pattern.test(line));
        if (found !== undefined) return done(() => resolve(found));
        if (!this.alive) return done(() => reject(new Error(`admin-api exited before printing ${pattern}; stderr:\n${this.stderr.slice(-20).join('\n')}\nstdout:\n${this.lines.slice(-20).join('\n')}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`admin-api printed no ${pattern} within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-20).join('\n')}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Its URL, once it listens. */
  async url(): Promise<string> {
    const line = await this.waitForLine(/^admin-api listening /);
    return /url=(\S+)/.exec(line)![1]!;
  }

  signal(signal: NodeJS.Signals) {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within the bound. */
  async stop(timeoutMs = 20_000) {
    if (!this.alive) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** Polls `predicate` until it holds (bounded); for what a test cannot await directly. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
