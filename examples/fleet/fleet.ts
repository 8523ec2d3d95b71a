/**
 * A fleet on one PostgreSQL database: Admin API processes (the control plane) and MCP gateway replicas
 * (the data plane), each the example's own `main.ts` in a process of its own, as an operator runs it —
 * and the HTTP calls that show a change going from one to the others. `main.ts` (`npm run example:fleet`)
 * and the tests share it. Everything listens on loopback; every wait is bounded.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The organization the Admin API seeds (examples/sample-organization.json) and the gateways follow. */
export const ORGANIZATION_ID = 'org-acme';
/** The gateways' configuration: no upstream MCP servers, since the sample's connectors (GitHub, Slack, …) have none here. */
export const GATEWAY_CONFIG = fileURLToPath(new URL('./gateway.config.json', import.meta.url));

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN_API_MAIN = fileURLToPath(new URL('../admin-api/main.ts', import.meta.url));
const GATEWAY_MAIN = fileURLToPath(new URL('../mcp-gateway/main.ts', import.meta.url));

export type Role = 'admin-api' | 'gateway';

/** One child process of the fleet: its stdout and stderr lines kept (bounded), its exit awaited. */
export class FleetProcess {
  static readonly KEPT_LINES = 2_000;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<() => void>();
  private urlValue: string | undefined;

  private constructor(
    readonly name: string,
    readonly role: Role,
    private readonly child: ChildProcessWithoutNullStreams,
    echo: ((name: string, line: string) => void) | undefined,
  ) {
    const keep = (into: string[], line: string) => {
      into.push(line);
      if (into.length > FleetProcess.KEPT_LINES) into.splice(0, into.length - FleetProcess.KEPT_LINES);
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      keep(this.lines, line);
      echo?.(name, line);
      for (const listener of [...this.listeners]) listener();
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      keep(this.stderr, line);
      echo?.(name, line);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve({ code, signal });
        for (const listener of [...this.listeners]) listener();
      }),
    );
  }

  /**
   * `node --import tsx <main.ts>` from the repository root (so `org-policy` and `@org-policy/store` are
   * this repository's source). Its own process group: a Ctrl-C at the terminal reaches the fleet's
   * `main.ts`, which stops each child once, in order, instead of every process at the same time.
   */
  static start(name: string, role: Role, env: Record<string, string>, echo?: (name: string, line: string) => void): FleetProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', role === 'admin-api' ? ADMIN_API_MAIN : GATEWAY_MAIN], {
      cwd: repositoryRoot,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    return new FleetProcess(name, role, child, echo);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Where it listens, once it said so. */
  get url(): string {
    if (this.urlValue === undefined) throw new Error(`${this.name} is not listening yet`);
    return this.urlValue;
  }

  /** The first stdout line matching, already printed or to come, within `timeoutMs`. */
  waitForLine(pattern: RegExp | ((line: string) => boolean), timeoutMs: number): Promise<string> {
    const test = typeof pattern === 'function' ? pattern : (line: string) => pattern.test(line);
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(test);
        if (found !== undefined) return done(() => resolve(found));
        if (!this.alive) return done(() => reject(new Error(`${this.name} exited before it printed ${pattern}\n${this.tail()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name} printed no ${pattern} within ${timeoutMs} ms\n${this.tail()}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Waits for its "listening" line and reads its URL from it. */
  async listening(timeoutMs: number): Promise<string> {
    if (this.role === 'admin-api') {
      const line = await this.waitForLine(/^admin-api listening /, timeoutMs);
      this.urlValue = /\burl=(\S+)/.exec(line)![1]!;
    } else {
      // `<timestamp> listening revision=N url=http://host:port/workspaces/<id>/mcp …`
      const line = await this.waitForLine(/ listening revision=\d+ url=/, timeoutMs);
      this.urlValue = /\burl=(\S+?)\/workspaces\//.exec(line)![1]!;
    }
    return this.urlValue;
  }

  /**
   * When a gateway applied `revision` (epoch ms): the timestamp of its first `policy_changed` log line at
   * that revision or later, written as the change takes effect; `null` if none comes within the bound.
   */
  async appliedAt(revision: number, timeoutMs: number): Promise<number | null> {
    const pattern = /^(\S+) policy_changed revision=(\d+) /;
    const matches = (line: string) => {
      const found = pattern.exec(line);
      return found !== null && Number(found[2]) >= revision;
    };
    try {
      const line = await this.waitForLine(matches, Math.min(timeoutMs, 5_000));
      return Date.parse(pattern.exec(line)![1]!);
    } catch {
      return null;
    }
  }

  /** Its last lines, for an error message. */
  tail(lines = 20): string {
    return [`--- ${this.name} stderr`, ...this.stderr.slice(-lines), `--- ${this.name} stdout`, ...this.lines.slice(-lines)].join('\n');
  }

  /** SIGTERM (each example drains and exits), then SIGKILL past the bound. */
  async stop(timeoutMs = 15_000): Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }> {
    if (!this.alive) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill() {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

export interface FleetOptions {
  /** `postgres://…`: the one database every process opens. */
  readonly databaseUrl: string;
  /** The first organization admin's (m-ada's) admin key, taken on the first start of an empty database. */
  readonly bootstrapKey: string;
  /** The authorization server whose tokens the gateways accept (one for the whole fleet). */
  readonly oauthIssuer: string;
  /** One port per Admin API process (0: any free one); their number is the number of processes. */
  readonly adminApiPorts: readonly number[];
  /** One port per gateway replica (0: any free one). */
  readonly gatewayPorts: readonly number[];
  readonly host?: string;
  /** How long a process may take to start listening (default 60 s: tsx compiles on a shared machine). */
  readonly startTimeoutMs?: number;
  /** Every line a child prints, as it comes (`FLEET_VERBOSE`). */
  readonly echo?: (name: string, line: string) => void;
  /** Told of each process as it is spawned, so a caller can stop it even while the fleet is starting. */
  readonly onProcess?: (process: FleetProcess) => void;
}

export interface Fleet {
  readonly adminApis: readonly FleetProcess[];
  readonly gateways: readonly FleetProcess[];
  /** Stops the gateways, then the Admin APIs (each drains), killing what does not exit in time. */
  stop(): Promise<void>;
}

/**
 * The first Admin API seeds an empty database and takes the bootstrap key; then the other Admin APIs and
 * the gateway replicas start together (a gateway waits for the seed anyway). A process that fails to
 * start stops the whole fleet, with its last lines in the error.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const adminApis: FleetProcess[] = [];
  const gateways: FleetProcess[] = [];
  const all = () => [...gateways, ...adminApis];
  const spawned = (list: FleetProcess[], p: FleetProcess) => {
    list.push(p);
    options.onProcess?.(p);
  };
  const stop = async () => {
    await Promise.all(gateways.map((p) => p.stop()));
    await Promise.all(adminApis.map((p) => p.stop()));
  };
  const adminEnv = (port: number) => ({ DATABASE_URL: options.databaseUrl, ORG_POLICY_BOOTSTRAP_KEY: options.bootstrapKey, PORT: String(port), HOST: host });
  const gatewayEnv = (port: number) => ({
    DATABASE_URL: options.databaseUrl,
    ORGANIZATION_ID,
    PORT: String(port),
    HOST: host,
    GATEWAY_CONFIG,
    OAUTH_ISSUER: options.oauthIssuer,
  });
  try {
    const [firstPort, ...otherPorts] = options.adminApiPorts;
    if (firstPort === undefined) throw new Error('a fleet needs at least one Admin API');
    const first = FleetProcess.start('admin-api-1', 'admin-api', adminEnv(firstPort), options.echo);
    spawned(adminApis, first);
    await first.listening(timeoutMs);
    otherPorts.forEach((port, i) => spawned(adminApis, FleetProcess.start(`admin-api-${i + 2}`, 'admin-api', adminEnv(port), options.echo)));
    options.gatewayPorts.forEach((port, i) => spawned(gateways, FleetProcess.start(`gateway-${i + 1}`, 'gateway', gatewayEnv(port), options.echo)));
    await Promise.all(all().map((p) => p.listening(timeoutMs)));
    return { adminApis, gateways, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ——— HTTP, as any client of the fleet speaks it ———

export interface AdminReply {
  readonly status: number;
  /** `x-policy-revision`: the revision the answer was decided at (the change's own, for a write). */
  readonly revision: number;
  readonly body: any;
}

/** One Admin API request with an admin key (`x-api-key`); a body is sent as JSON. */
export async function adminCall(baseUrl: string, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<AdminReply> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, revision: Number(response.headers.get('x-policy-revision')), body: parsed };
}

/** A gateway's `GET /healthz`: the revision it decides at, and how far behind the head it is. */
export async function health(gatewayUrl: string): Promise<{ readonly revision: number; readonly lagMs: number }> {
  const response = await fetch(`${gatewayUrl}/healthz`);
  if (response.status !== 200) throw new Error(`${gatewayUrl}/healthz answered ${response.status}`);
  return (await response.json()) as { revision: number; lagMs: number };
}

export const endpoint = (gatewayUrl: string, workspaceId: string) => `${gatewayUrl}/workspaces/${encodeURIComponent(workspaceId)}/mcp`;

export interface McpAnswer {
  readonly status: number;
  /** `x-policy-revision` of the answer. */
  readonly revision: number;
  /** The tool names of a `tools/list` result, `null` when the answer is an error. */
  readonly tools: readonly string[] | null;
  /** A JSON-RPC error's code and the reason in its `data`. */
  readonly error: { readonly code: number; readonly reason: string | undefined } | null;
}

let nextRpcId = 0;

/** One JSON-RPC request over Streamable HTTP without a session (the gateway answers it in the caller's own lane). */
async function rpc(gatewayUrl: string, workspaceId: string, bearer: string, method: string, params?: unknown): Promise<McpAnswer> {
  const response = await fetch(endpoint(gatewayUrl, workspaceId), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++nextRpcId, method, ...(params === undefined ? {} : { params }) }),
  });
  const body = (await response.json()) as { result?: { tools?: { name: string }[] }; error?: { code: number; data?: { reason?: string } } };
  return {
    status: response.status,
    revision: Number(response.headers.get('x-policy-revision')),
    tools: body.result?.tools?.map((tool) => tool.name) ?? null,
    error: body.error === undefined ? null : { code: body.error.code, reason: body.error.data?.reason },
  };
}

export const toolsList = (gatewayUrl: string, workspaceId: string, bearer: string) => rpc(gatewayUrl, workspaceId, bearer, 'tools/list');
export const toolsCall = (gatewayUrl: string, workspaceId: string, bearer: string, name: string) => rpc(gatewayUrl, workspaceId, bearer, 'tools/call', { name, arguments: {} });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `predicate` holds, or fails past `timeoutMs` saying what it waited for. */
export async function until<T>(what: string, probe: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs: number, periodMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (predicate(value)) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await sleep(periodMs);
  }
}

// ——— A key's life across the fleet, measured ———

/** Watches one gateway's `/healthz`, keeping when each revision was first seen (ms after `origin()`). */
class RevisionWatch {
  private readonly seen: { readonly at: number; readonly revision: number }[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    readonly gatewayUrl: string,
    private readonly origin: () => number,
  ) {
    this.loop = (async () => {
      while (this.running) {
        try {
          const { revision } = await health(gatewayUrl);
          const last = this.seen.at(-1);
          if (last === undefined || last.revision !== revision) this.seen.push({ at: performance.now() - this.origin(), revision });
        } catch {
          // A failed probe is only a missing sample; the outcome checks say whether the replica answered.
        }
        // /healthz asks the database for the lag: probed less often than tools/list, to weigh little on what is measured.
        await sleep(HEALTH_POLL_MS);
      }
    })();
  }

  /** When (ms after the origin) the replica was first seen at `revision` or later; waits for it, bounded. */
  async reached(revision: number, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.seen.find((sample) => sample.revision >= revision);
      if (hit !== undefined) return hit.at;
      if (performance.now() > deadline) throw new Error(`${this.gatewayUrl} did not reach revision ${revision} within ${timeoutMs} ms`);
      await sleep(POLL_MS);
    }
  }

  async stop() {
    this.running = false;
    await this.loop;
  }
}

/** The pause between two tools/list of one replica while a change is followed: a few ms of resolution without saturating two cores. */
const POLL_MS = 2;
const HEALTH_POLL_MS = 5;

export interface ReplicaAnswer extends McpAnswer {
  /** Ms after the request that started this step was sent. */
  readonly at: number;
}

/** One step (the key created, or revoked) at one replica; times in ms after the step's request was sent. */
export interface ReplicaStep {
  readonly gatewayUrl: string;
  /** When the replica applied the change: its `policy_changed revision=N` log line (this machine's clock). */
  readonly appliedMs: number | null;
  /** When its `/healthz` was first seen at the change's revision. */
  readonly healthzMs: number;
  /** When the secret's answer showed the change: its tools listed (created) or none (revoked). */
  readonly observedMs: number;
  /** Every tools/list with the secret in this step, in order, up to the one that showed the change. */
  readonly answers: readonly ReplicaAnswer[];
  /**
   * A tools/call of the key's first tool once the change showed: allowed by the policy after creation
   * (`upstream_unavailable`: no upstream is configured), refused after revocation (`key_revoked`).
   */
  readonly call: McpAnswer;
}

export interface PropagationStep {
  readonly status: number;
  /** The change's revision: the answer's `x-policy-revision`. */
  readonly revision: number;
  /** When the Admin API answered (committed, durable, and in its own follower). */
  readonly answeredMs: number;
  /** When the change committed: its audit entry's `recordedAt`, by the database's clock (`commitTimes`), else `null`. */
  readonly committedMs: number | null;
  readonly replicas: readonly ReplicaStep[];
}

export interface KeyPropagation {
  readonly keyId: string;
  readonly workspaceId: string;
  /** What the secret listed once created (the same at every replica). */
  readonly tools: readonly string[];
  readonly created: PropagationStep;
  readonly revoked: PropagationStep;
}

export interface KeyPropagationOptions {
  /** The Admin API that takes both writes. */
  readonly adminApiUrl: string;
  readonly adminKey: string;
  /** The replicas (their log lines say when each applied a change). */
  readonly gateways: readonly FleetProcess[];
  readonly workspaceId: string;
  readonly keyId: string;
  /** Bound on each wait (default 30 s). */
  readonly timeoutMs?: number;
  /**
   * Also read when each change committed, from the Admin API's audit log (`recordedAt`, written in the
   * change's transaction by the database's clock). Comparable with this machine's clock only when the
   * database runs on this machine.
   */
  readonly commitTimes?: boolean;
  /** Told of each step as it completes, for a narrated run. */
  readonly onStep?: (step: string) => void;
}

/** A key's answer that lists its tools. */
const lists = (answer: McpAnswer) => answer.status === 200 && answer.tools !== null && answer.tools.length > 0;
/** A refusal at or after `revision`: nothing listed (the policy's `key_revoked`), or a 401. */
const refusedAt = (answer: McpAnswer, revision: number) =>
  answer.revision >= revision && (answer.status === 401 || (answer.status === 200 && answer.tools !== null && answer.tools.length === 0));

/**
 * Creates an API key through the Admin API (its secret comes back once) and follows it to every replica —
 * the change applied, `/healthz` at its revision, the secret listing the key's tools over MCP — then
 * revokes it and follows the revocation until every replica refuses the secret. Each replica is asked
 * with the secret back to back from before the revocation is sent, so the first refusal is seen within one
 * request's round trip of the replica applying it. Times are in ms after each request was sent; outcomes and their order are returned for checks.
 */
export async function followKeyThroughFleet(options: KeyPropagationOptions): Promise<KeyPropagation> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { adminApiUrl, adminKey, workspaceId, keyId, gateways } = options;
  const step = options.onStep ?? (() => {});

  /** Sends one write with every replica watched from just before it, and waits until each replica shows it. */
  async function change(
    send: () => Promise<AdminReply>,
    shows: (answer: McpAnswer, revision: number) => boolean,
    secretNow: () => string | undefined,
    onAnswer: (reply: AdminReply) => void,
    callTool: (answers: readonly ReplicaAnswer[]) => string,
  ): Promise<PropagationStep> {
    const origin = performance.now();
    const watches = gateways.map((g) => new RevisionWatch(g.url, () => origin));
    let revision: number | undefined;
    let abandoned = false;
    const asking = gateways.map(async (gateway) => {
      const answers: ReplicaAnswer[] = [];
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const secret = secretNow();
        if (secret !== undefined) {
          const answer = await toolsList(gateway.url, workspaceId, secret);
          answers.push({ ...answer, at: performance.now() - origin });
          const known = revision;
          if (known !== undefined) {
            const first = answers.findIndex((a) => shows(a, known));
            if (first >= 0) return answers.slice(0, first + 1);
          }
        }
        if (abandoned) return answers;
        if (performance.now() > deadline) throw new Error(`${keyId}: ${gateway.name} did not show revision ${revision} to the secret within ${timeoutMs} ms: ${JSON.stringify(answers.at(-1))}`);
        await sleep(POLL_MS);
      }
    });
    try {
      const reply = await send();
      const answeredMs = performance.now() - origin;
      onAnswer(reply);
      revision = reply.revision;
      const replicas = await Promise.all(
        gateways.map(async (gateway, i): Promise<ReplicaStep> => {
          const answers = await asking[i]!;
          const applied = await gateway.appliedAt(reply.revision, timeoutMs);
          return {
            gatewayUrl: gateway.url,
            appliedMs: applied === null ? null : applied - (performance.timeOrigin + origin),
            healthzMs: await watches[i]!.reached(reply.revision, timeoutMs),
            observedMs: answers.at(-1)!.at,
            answers,
            call: await toolsCall(gateway.url, workspaceId, secretNow()!, callTool(answers)),
          };
        }),
      );
      const committed = options.commitTimes === true ? await commitTime(adminApiUrl, adminKey, reply.revision) : null;
      return { status: reply.status, revision: reply.revision, answeredMs, committedMs: committed === null ? null : committed - (performance.timeOrigin + origin), replicas };
    } finally {
      abandoned = true;
      await Promise.allSettled(asking);
      await Promise.all(watches.map((w) => w.stop()));
    }
  }

  // 1. Created: the answer's revision is the change's; the secret is in this answer and nowhere else.
  let secret: string | undefined;
  let tools: readonly string[] = [];
  const created = await change(
    () => adminCall(adminApiUrl, adminKey, 'POST', `/api/admin/workspaces/${encodeURIComponent(workspaceId)}/api-keys`, { keyId, name: `fleet demonstration ${keyId}`, connectorScopes: 'all' }),
    (answer, revision) => answer.revision >= revision && lists(answer),
    () => secret,
    (reply) => {
      if (reply.status !== 200 || typeof reply.body?.secret !== 'string') throw new Error(`creating ${keyId} through the Admin API answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      secret = reply.body.secret as string;
      step(`created ${keyId} at revision ${reply.revision}`);
    },
    (answers) => answers.at(-1)!.tools![0]!,
  );
  tools = created.replicas[0]!.answers.at(-1)!.tools!;
  step(`${keyId} works at ${gateways.length} replicas`);

  // 2. Revoked: the secret is asked at every replica from before the request is sent.
  const revoked = await change(
    () => adminCall(adminApiUrl, adminKey, 'POST', `/api/admin/api-keys/${encodeURIComponent(keyId)}/revoke`),
    refusedAt,
    () => secret,
    (reply) => {
      if (reply.status !== 200) throw new Error(`revoking ${keyId} through the Admin API answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      step(`revoked ${keyId} at revision ${reply.revision}`);
    },
    () => tools[0]!,
  );
  step(`${keyId} refused at ${gateways.length} replicas`);
  return { keyId, workspaceId, tools, created, revoked };
}

/** When `revision` committed (epoch ms, the database's clock): its applied audit entry's `recordedAt`. */
async function commitTime(adminApiUrl: string, adminKey: string, revision: number): Promise<number | null> {
  const reply = await adminCall(adminApiUrl, adminKey, 'GET', '/api/admin/audit-log?order=desc&limit=100');
  const entries = (reply.body?.entries ?? []) as { revision: number; status: string; recordedAt: string }[];
  const entry = entries.find((e) => e.revision === revision && e.status === 'applied');
  return entry === undefined ? null : Date.parse(entry.recordedAt);
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const slowest = (values: readonly number[]) => Math.max(...values);

/** The slowest replica's time from the commit to `pick`, or `null` when a time is missing. */
export function fromCommit(step: PropagationStep, pick: (replica: ReplicaStep) => number | null): number | null {
  if (step.committedMs === null) return null;
  const times = step.replicas.map(pick);
  return times.some((t) => t === null) ? null : slowest(times as number[]) - step.committedMs;
}

/** The measured times, as lines for a terminal or a test's output. */
export function describePropagation(result: KeyPropagation): string[] {
  const { created: c, revoked: r } = result;
  const tool = result.tools[0];
  const at = (value: number | null, what: string) => (value === null ? '' : `${what} +${ms(value)}, `);
  const stepLines = (step: PropagationStep, observed: string, outcome: string) => [
    ...step.replicas.map(
      (x, i) =>
        `  gateway ${i + 1}: ${at(x.appliedMs, 'applied')}/healthz at ${step.revision} +${ms(x.healthzMs)}, ${observed} +${ms(x.observedMs)}; tools/call ${tool} → ${x.call.error?.reason ?? 'answered'}${outcome}`,
    ),
  ];
  const header = (verb: string, step: PropagationStep) =>
    `${verb}: the Admin API answered revision ${step.revision} +${ms(step.answeredMs)}${step.committedMs === null ? '' : ` (committed +${ms(step.committedMs)})`}`;
  const optional = (value: number | null, text: string) => (value === null ? [] : [text.replace('%', ms(value))]);
  return [
    header(`create ${result.keyId} for ${result.workspaceId}`, c),
    ...stepLines(c, `the secret lists ${result.tools.length} tools`, ''),
    header(`revoke ${result.keyId}`, r),
    ...stepLines(r, 'the secret refused (tools/list empty)', ''),
    'measured (+ms after each request was sent; commits by the database\'s clock, "applied" from each replica\'s log):',
    ...optional(fromCommit(c, (x) => x.appliedMs), `  create: commit → applied at every replica %`),
    `  create: request → the key working at every replica ${ms(slowest(c.replicas.map((x) => x.observedMs)))}`,
    ...optional(fromCommit(r, (x) => x.appliedMs), `  revoke: commit → applied at every replica %`),
    ...optional(fromCommit(r, (x) => x.observedMs), `  revoke: commit → refused at every replica %`),
    `  revoke: request → refused at every replica ${ms(slowest(r.replicas.map((x) => x.observedMs)))}`,
  ];
}

/** One run's headline times (ms), `null` where the commit time is not known. */
export function propagationTimes(result: KeyPropagation): Record<string, number | null> {
  const { created: c, revoked: r } = result;
  return {
    'create: commit → applied at every replica': fromCommit(c, (x) => x.appliedMs),
    'create: request → the key working at every replica': slowest(c.replicas.map((x) => x.observedMs)),
    'revoke: commit → applied at every replica': fromCommit(r, (x) => x.appliedMs),
    'revoke: commit → refused at every replica': fromCommit(r, (x) => x.observedMs),
    'revoke: request → refused at every replica': slowest(r.replicas.map((x) => x.observedMs)),
  };
}

/** Median and maximum of each headline time over several runs, as lines. */
export function summarizePropagation(results: readonly KeyPropagation[]): string[] {
  const runs = results.map(propagationTimes);
  const names = Object.keys(runs[0] ?? {});
  return names.map((name) => {
    const values = runs.map((run) => run[name]).filter((v): v is number => v !== null && v !== undefined).sort((a, b) => a - b);
    if (values.length === 0) return `  ${name}: n/a`;
    const median = values.length % 2 === 1 ? values[(values.length - 1) / 2]! : (values[values.length / 2 - 1]! + values[values.length / 2]!) / 2;
    return `  ${name}: median ${ms(median)}, max ${ms(values.at(-1)!)} (${values.length} runs)`;
  });
}
