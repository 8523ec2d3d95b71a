/**
 * Where the gateway's policy comes from. A source holds the policy in force and says when it changes,
 * handing over the policy before and after, so the gateway can tell each session whether its tool list
 * changed. The snapshot file is the standalone source: watched, parsed and compiled aside, swapped in
 * only when valid.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { createPolicy, parseOrganization, type Organization, type Policy } from 'org-policy';

export const SEPARATOR = '__';

export type ReloadResult = { readonly ok: true; readonly revision: number } | { readonly ok: false; readonly problems: readonly string[] };

export interface PolicySource {
  /** The policy in force now. */
  readonly policy: Policy;
  /** Called after each change, with the policy before and the one now in force. */
  onChange(listener: (previous: Policy, next: Policy) => void): void;
  /** What `GET /healthz` reports: the revision in force, and how far behind the head it is where that is known. */
  health(): Promise<{ readonly revision: number; readonly lagMs?: number }>;
  /** Reads the source again now (the snapshot file); absent where the source pushes its own changes. */
  reload?(): Promise<ReloadResult>;
  close(): Promise<void>;
}

/**
 * The gateway names a tool `<connector name>__<tool>`. Slugs may hold `__` themselves, so a snapshot
 * in which two (connector, tool) pairs would share a name is a problem.
 */
export function toolNameProblems(organization: Organization): string[] {
  const names = new Map<string, string>();
  const problems: string[] = [];
  for (const connector of organization.connectors.values()) {
    for (const { name: tool } of connector.tools) {
      const name = `${connector.name}${SEPARATOR}${tool}`;
      const taken = names.get(name);
      if (taken !== undefined) problems.push(`tool name ${name} would name both ${taken} and ${connector.name}/${tool}`);
      names.set(name, `${connector.name}/${tool}`);
    }
  }
  return problems;
}

/** Parses and compiles one snapshot file's text; a snapshot with problems gives them all, and no policy. */
export function compileSnapshot(text: string, path: string): { ok: true; policy: Policy } | { ok: false; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`${path}: ${error instanceof Error ? error.message : String(error)}`] };
  }
  const parsed = parseOrganization(json);
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map((p) => `${p.path.join('.')}: ${p.message} [${p.code}]`) };
  const problems = toolNameProblems(parsed.organization);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, policy: createPolicy(parsed.organization) };
}

async function readText(path: string): Promise<{ ok: true; text: string } | { ok: false; problems: string[] }> {
  try {
    return { ok: true, text: await readFile(path, 'utf8') };
  } catch (error) {
    return { ok: false, problems: [`${path}: ${error instanceof Error ? error.message : String(error)}`] };
  }
}

/** The snapshot file, reloaded when it changes (its directory is watched, so replace-by-rename is seen too). */
export async function snapshotFileSource(path: string, options: { readonly watch?: boolean; readonly problem?: (problems: readonly string[], kept: number) => void } = {}): Promise<PolicySource> {
  const file = resolve(path);
  const read = await readText(file);
  const first = read.ok ? compileSnapshot(read.text, file) : read;
  if (!read.ok || !first.ok) throw new Error(`${file} is not a valid snapshot:\n  ${(first.ok ? [] : first.problems).join('\n  ')}`);
  let policy = first.policy;
  let loaded = read.text;
  const listeners: ((previous: Policy, next: Policy) => void)[] = [];

  const readAgain = async (): Promise<ReloadResult> => {
    const again = await readText(file);
    // The watcher and an explicit reload may both read one write: the same bytes are not a change.
    if (again.ok && again.text === loaded) return { ok: true, revision: policy.revision };
    const next = again.ok ? compileSnapshot(again.text, file) : again;
    if (!again.ok || !next.ok) {
      const problems = next.ok ? [] : next.problems;
      options.problem?.(problems, policy.revision);
      return { ok: false, problems };
    }
    const previous = policy;
    loaded = again.text;
    policy = next.policy; // One assignment: a request in flight keeps the policy it started with.
    for (const listener of listeners) listener(previous, policy);
    return { ok: true, revision: policy.revision };
  };
  // One reload at a time, so a watcher's and a caller's reads of one write swap the policy once.
  let queue: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<ReloadResult> => {
    const next = queue.then(readAgain);
    queue = next.catch(() => undefined);
    return next;
  };
  const watcher = options.watch === false ? undefined : watchFile(file, () => void reload());

  return {
    get policy() {
      return policy;
    },
    onChange: (listener) => void listeners.push(listener),
    health: async () => ({ revision: policy.revision }),
    reload,
    close: async () => watcher?.close(),
  };
}

function watchFile(path: string, changed: () => void): FSWatcher {
  const name = basename(path);
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(dirname(path), (_event, file) => {
    if (file !== null && file !== name) return;
    clearTimeout(timer);
    timer = setTimeout(changed, 30);
    timer.unref();
  });
  watcher.on('error', () => undefined);
  return watcher;
}
