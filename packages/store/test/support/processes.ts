import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const storeRoot = fileURLToPath(new URL('../..', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('../../../..', import.meta.url));

export type Message = { readonly type: string } & Record<string, unknown>;

/**
 * A real child process running one of test/processes/*.ts through tsx (which maps `org-policy` to this
 * repository's source with the store's tsconfig paths), speaking JSON lines: requests on stdin, messages
 * on stdout. Every wait is bounded.
 */
export class Child {
  readonly messages: Message[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  private readonly listeners = new Set<() => void>();
  private nextId = 0;

  private constructor(
    readonly name: string,
    private readonly process: ChildProcessWithoutNullStreams,
  ) {
    createInterface({ input: process.stdout }).on('line', (line) => {
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        this.stderr.push(`stdout: ${line}`);
        return;
      }
      this.messages.push(message);
      for (const listener of [...this.listeners]) listener();
    });
    createInterface({ input: process.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise((resolve) => process.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const listener of [...this.listeners]) listener();
    }));
  }

  static start(script: 'writer' | 'follower' | 'pglite-writer', name: string, env: Record<string, string>): Child {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`../processes/${script}.ts`, import.meta.url))], {
      cwd: repositoryRoot,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: `${storeRoot}tsconfig.json`, CHILD_NAME: name },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new Child(name, child);
  }

  get pid(): number {
    return this.process.pid!;
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  send(request: Record<string, unknown>) {
    this.process.stdin.write(`${JSON.stringify(request)}\n`);
  }

  /** Sends a request with a fresh id and waits for the answer carrying it. */
  async request(request: Record<string, unknown>, timeoutMs = 30_000): Promise<Message> {
    const id = ++this.nextId;
    this.send({ ...request, id });
    return this.waitFor((message) => message.id === id, timeoutMs, `an answer to ${JSON.stringify(request.op)}`);
  }

  /** The first message (already received or coming) that matches, within `timeoutMs`. */
  waitFor(predicate: (message: Message) => boolean, timeoutMs = 30_000, what = 'a message'): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(predicate);
        if (found !== undefined) return done(() => resolve(found));
        if (!this.alive) return done(() => reject(new Error(`${this.name} exited before ${what}; stderr:\n${this.stderr.slice(-30).join('\n')}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-30).join('\n')}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  count(type: string): number {
    return this.messages.filter((message) => message.type === type).length;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL') {
    if (this.alive) this.process.kill(signal);
  }

  /** Asks it to exit, and kills it if it has not within the bound. */
  async stop(timeoutMs = 10_000) {
    if (!this.alive) return;
    this.send({ op: 'exit' });
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
