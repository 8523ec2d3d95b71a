import { Immer, type Draft } from 'immer';
import type { z } from 'zod';
import { COLLECTIONS, WORKSPACE_COLLECTIONS, isCollection, isWorkspaceCollection } from '../model/entities.js';
import type { CollectionName, WorkspaceCollectionName } from '../model/entities.js';
import { formatPath, problemsFromZod } from '../model/problems.js';
import { nameSchema, type organizationSchema } from '../model/schema.js';
import type { Organization, Problem } from '../model/types.js';
import { emptyTouched, type Touched, type WirePatch } from './wire.js';

const immer = new Immer({ autoFreeze: true });
type OrgDraft = Draft<z.output<typeof organizationSchema>>;
type MutableKeyed = { get(key: string): unknown; has(key: string): boolean; set(key: string, value: unknown): unknown; delete(key: string): boolean };

export type PatchFailure = { readonly code: 'patch_failed'; readonly message: string; readonly problems?: readonly Problem[] };

/**
 * Applies wire patches to a parsed snapshot, as one immer recipe: every value is parsed by its entity's
 * schema first (a patch carries JSON, the snapshot holds the parsed form), `add` needs the key absent and
 * `replace` / `remove` need it present — so a change applied twice, or to the wrong base, fails instead of
 * silently merging. Returns the next snapshot (not yet checked across entities) and what it touched.
 */
export function applyWirePatches(organization: Organization, patches: readonly WirePatch[]): { ok: true; organization: Organization; touched: Touched } | { ok: false; error: PatchFailure } {
  const touched = emptyTouched();
  const problems: Problem[] = [];
  const steps: ((draft: OrgDraft) => string | undefined)[] = [];

  patches.forEach((patch, index) => {
    const at = ['patches', index];
    const fail = (message: string) => problems.push({ code: 'invalid_value', path: at, message: `patch ${index} (${formatPath(['', ...patch.path]).slice(1) || 'root'}): ${message}` });
    const { op, path } = patch;
    if (path.length === 1 && path[0] === 'name') {
      if (op !== 'replace') return void fail('the name can only be replaced');
      const parsed = nameSchema.safeParse(patch.value);
      if (!parsed.success) return void problems.push(...problemsFromZod(parsed.error.issues).map((p) => ({ ...p, path: [...at, 'value', ...p.path] })));
      touched.name = true;
      steps.push((draft) => void (draft.name = parsed.data));
      return;
    }
    const [collection, id, field, key] = path;
    if (!isCollection(collection) || typeof id !== 'string') return void fail('not a path this format knows');
    if (path.length === 2) {
      const value = op === 'remove' ? undefined : parseEntry(COLLECTIONS[collection].entry, patch.value, [...at, 'value'], problems);
      if (op !== 'remove' && value === undefined) return;
      if (value !== undefined && (value as Record<string, unknown>)[COLLECTIONS[collection].key] !== id) return void fail(`the entity's ${COLLECTIONS[collection].key} is not ${JSON.stringify(id)}`);
      note(touched, collection, id);
      steps.push((draft) => write(draft[collection] as unknown as MutableKeyed, id, op, value));
      return;
    }
    if (collection !== 'workspaces') return void fail('not a path this format knows');
    if (path.length === 3 && field === 'name') {
      if (op !== 'replace') return void fail('a workspace name can only be replaced');
      const parsed = nameSchema.safeParse(patch.value);
      if (!parsed.success) return void problems.push(...problemsFromZod(parsed.error.issues).map((p) => ({ ...p, path: [...at, 'value', ...p.path] })));
      notePart(touched, id).name = true;
      steps.push((draft) => {
        const workspace = draft.workspaces.get(id);
        if (!workspace) return `workspace ${JSON.stringify(id)} does not exist`;
        workspace.name = parsed.data;
        return undefined;
      });
      return;
    }
    if (path.length !== 4 || !isWorkspaceCollection(field) || typeof key !== 'string') return void fail('not a path this format knows');
    const value = op === 'remove' ? undefined : parseEntry(WORKSPACE_COLLECTIONS[field].entry, patch.value, [...at, 'value'], problems);
    if (op !== 'remove' && value === undefined) return;
    if (value !== undefined && (value as Record<string, unknown>)[WORKSPACE_COLLECTIONS[field].key] !== key) {
      return void fail(`the entry's ${WORKSPACE_COLLECTIONS[field].key} is not ${JSON.stringify(key)}`);
    }
    notePartEntry(touched, id, field, key);
    steps.push((draft) => {
      const workspace = draft.workspaces.get(id);
      if (!workspace) return `workspace ${JSON.stringify(id)} does not exist`;
      return write(workspace[field] as unknown as MutableKeyed, key, op, value);
    });
  });
  if (problems.length > 0) return { ok: false, error: { code: 'patch_failed', message: problems[0]!.message, problems } };

  let failure: string | undefined;
  const next = immer.produce(organization, (draft) => {
    for (const [index, step] of steps.entries()) {
      const message = step(draft as OrgDraft);
      if (message !== undefined) {
        failure = `patch ${index}: ${message}`;
        return;
      }
    }
  });
  if (failure !== undefined) return { ok: false, error: { code: 'patch_failed', message: failure } };
  return { ok: true, organization: next as Organization, touched };
}

function write(target: MutableKeyed, key: string, op: WirePatch['op'], value: unknown): string | undefined {
  const present = target.has(key);
  if (op === 'add' && present) return `${JSON.stringify(key)} already exists; add needs it absent`;
  if (op !== 'add' && !present) return `${JSON.stringify(key)} does not exist; ${op} needs it present`;
  if (op === 'remove') target.delete(key);
  else target.set(key, value);
  return undefined;
}

function parseEntry(schema: z.ZodType, value: unknown, path: (string | number)[], problems: Problem[]): unknown {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  problems.push(...problemsFromZod(parsed.error.issues).map((p) => ({ ...p, path: [...path, ...p.path] })));
  return undefined;
}

function note(touched: Touched, collection: CollectionName, id: string) {
  const ids = touched.entities.get(collection);
  if (ids) ids.add(id);
  else touched.entities.set(collection, new Set([id]));
}

function notePart(touched: Touched, id: string) {
  let part = touched.workspaceParts.get(id);
  if (!part) touched.workspaceParts.set(id, (part = { name: false, entries: new Map() }));
  return part;
}

function notePartEntry(touched: Touched, id: string, field: WorkspaceCollectionName, key: string) {
  const part = notePart(touched, id);
  const keys = part.entries.get(field);
  if (keys) keys.add(key);
  else part.entries.set(field, new Set([key]));
}
