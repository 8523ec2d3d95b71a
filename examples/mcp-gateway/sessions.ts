/**
 * MCP sessions, each bound to the principal (and the workspace endpoint) that opened it. Every session
 * has its own SDK `Server` on its own transport, so request ids, cancellations, progress and
 * notifications live inside it. A request without a session goes to its principal's lane: the same
 * thing, one per principal, dropped when it has nothing in flight.
 *
 * Sessions live in the replica that created them: a load balancer keeps a session on one replica
 * (by `Mcp-Session-Id`); another replica answers 404 and the client starts a new session.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Policy } from 'org-policy';
import { SessionTransport } from './transport.js';

/** Who a session belongs to: a principal at one workspace's endpoint. */
export interface Owner {
  readonly kind: 'member' | 'api_key';
  readonly id: string;
  readonly workspace: string;
}

export interface Session {
  readonly id: string;
  readonly owner: Owner;
  readonly transport: SessionTransport;
  readonly server: Server;
  lastActive: number;
}

export interface SessionLimits {
  /** Sessions held by this replica (default 10,000); past it, a new session is refused with 503. */
  readonly maxSessions?: number;
  /** Sessions per principal and workspace (default 16); past it, that principal's least recently used one closes. */
  readonly maxSessionsPerPrincipal?: number;
  /** A session with no request and no open GET stream for this long closes (default 30 minutes). */
  readonly idleMs?: number;
  /** Requests in flight per session or lane (default 64). */
  readonly maxInFlight?: number;
}

export interface ToolListChanges {
  /** Sessions sent `notifications/tools/list_changed`. */
  readonly notified: readonly string[];
  /** Sessions closed because their principal is gone (removed, or its id now names someone else). */
  readonly closed: readonly string[];
}

const keyOf = (owner: Owner) => `${owner.workspace}\u0000${owner.kind}\u0000${owner.id}`;

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  private readonly byOwner = new Map<string, Set<Session>>();
  private readonly lanes = new Map<string, SessionTransport>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly limits: Required<SessionLimits>;

  constructor(
    private readonly createServer: () => Server,
    limits: SessionLimits = {},
  ) {
    this.limits = { maxSessions: 10_000, maxSessionsPerPrincipal: 16, idleMs: 30 * 60_000, maxInFlight: 64, ...limits };
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, this.limits.idleMs));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for `owner`; undefined when the replica holds all it may. */
  open(owner: Owner): Session | undefined {
    const key = keyOf(owner);
    const own = this.byOwner.get(key) ?? new Set<Session>();
    if (own.size >= this.limits.maxSessionsPerPrincipal) void this.close([...own].reduce((a, b) => (b.lastActive < a.lastActive ? b : a)).id);
    if (this.sessions.size >= this.limits.maxSessions) return undefined;
    const { transport, server } = this.connect();
    const session: Session = { id: randomUUID(), owner, transport, server, lastActive: Date.now() };
    this.sessions.set(session.id, session);
    this.byOwner.set(key, own.add(session));
    return session;
  }

  /** The session with this id, if it exists and belongs to `owner`: another principal's id finds nothing, exactly as an unknown one. */
  find(id: string, owner: Owner): Session | undefined {
    const session = this.sessions.get(id);
    if (session === undefined || keyOf(session.owner) !== keyOf(owner)) return undefined;
    session.lastActive = Date.now();
    return session;
  }

  /** The transport for `owner`'s requests sent without a session, made on demand. */
  lane(owner: Owner): SessionTransport {
    const key = keyOf(owner);
    const existing = this.lanes.get(key);
    if (existing !== undefined) return existing;
    const { transport, server } = this.connect();
    // After the SDK has finished with the answer it just sent (closing sooner would abort the finished request, upstream too).
    transport.onsettled = () =>
      setImmediate(() => {
        if (transport.inFlight > 0 || this.lanes.get(key) !== transport) return;
        this.lanes.delete(key);
        void server.close();
      });
    this.lanes.set(key, transport);
    return transport;
  }

  /** `owner`'s lane if it has requests in flight: what a cancellation sent without a session can reach. */
  existingLane(owner: Owner): SessionTransport | undefined {
    return this.lanes.get(keyOf(owner));
  }

  /** A server on its own transport. The SDK installs its handlers synchronously in connect, so the pair is usable at once. */
  private connect(): { transport: SessionTransport; server: Server } {
    const transport = new SessionTransport(this.limits.maxInFlight);
    const server = this.createServer();
    void server.connect(transport);
    return { transport, server };
  }

  async close(id: string): Promise<boolean> {
    const session = this.sessions.get(id);
    if (session === undefined) return false;
    this.sessions.delete(id);
    const key = keyOf(session.owner);
    const own = this.byOwner.get(key);
    own?.delete(session);
    if (own?.size === 0) this.byOwner.delete(key);
    await session.server.close().catch(() => undefined);
    return true;
  }

  /**
   * After a policy change: `notifications/tools/list_changed` to exactly the sessions whose tool list
   * differs between `before` and `after` (computed once per principal and workspace), and closes the
   * sessions of principals that are gone.
   */
  toolListsChanged(before: Policy, after: Policy, toolsOf: (policy: Policy, owner: Owner) => string): ToolListChanges {
    const notified: string[] = [];
    const closed: string[] = [];
    for (const group of this.byOwner.values()) {
      const owner = group.values().next().value!.owner;
      const sessions = [...group];
      if (!samePrincipal(before, after, owner)) {
        for (const session of sessions) {
          closed.push(session.id);
          void this.close(session.id);
        }
        continue;
      }
      if (toolsOf(before, owner) === toolsOf(after, owner)) continue;
      for (const session of sessions) {
        notified.push(session.id);
        session.server.sendToolListChanged().catch(() => undefined);
      }
    }
    return { notified, closed };
  }

  private sweep(): void {
    const idleSince = Date.now() - this.limits.idleMs;
    for (const session of this.sessions.values()) {
      if (session.lastActive < idleSince && !session.transport.streaming && session.transport.inFlight === 0) void this.close(session.id);
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id)));
    await Promise.all([...this.lanes.values()].map((lane) => lane.close()));
  }
}

/** The principal still exists and is still the same one: a member whose id now carries another `externalId` is someone else (SPEC §9.2). */
function samePrincipal(before: Policy, after: Policy, owner: Owner): boolean {
  if (owner.kind === 'api_key') return after.organization.apiKeys.has(owner.id);
  const now = after.organization.members.get(owner.id);
  return now !== undefined && now.externalId === before.organization.members.get(owner.id)?.externalId;
}
