/**
 * The HTTP edge's one job beyond routing: the public Admin API speaks its own JSON — roles by name in
 * `role_names`, by role UUID in `roles`, and `members: [{ user_uuid, role_names | roles }]` (SPEC §5,
 * as the Admin API documentation shows it) — while the library's commands have one vocabulary:
 * `roleNames`, `roleIds`, `memberId` (docs/admin.md). This maps a request body onto a command, and a
 * refusal's paths and messages back onto the body the client sent.
 */
import type { AdminError, AdminProblem } from 'org-policy';

type Json = Record<string, unknown>;

/** The Admin API's role fields and their command names. */
const ROLE_FIELDS: readonly (readonly [api: string, command: string])[] = [
  ['role_names', 'roleNames'],
  ['roles', 'roleIds'],
];

/** A body field that already speaks the library's words is not Admin API JSON: refused, so that each layer has one vocabulary. */
export interface BodyProblem {
  readonly code: 'unknown_field';
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export function commandFields(body: Json): { ok: true; fields: Json } | { ok: false; problems: BodyProblem[] } {
  const problems: BodyProblem[] = [];
  const fields = renameRoles(body, [], problems);
  if (Array.isArray(body.members)) {
    fields.members = body.members.map((entry: unknown, i) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return entry; // the library names what is wrong
      const { user_uuid, ...rest } = entry as Json;
      if ('memberId' in rest) problems.push(unknownField(['members', i, 'memberId'], 'user_uuid'));
      return { ...renameRoles(rest, ['members', i], problems), ...(user_uuid !== undefined ? { memberId: user_uuid } : {}) };
    });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, fields };
}

function renameRoles(value: Json, path: (string | number)[], problems: BodyProblem[]): Json {
  const out: Json = { ...value };
  for (const [api, command] of ROLE_FIELDS) {
    if (command in value) problems.push(unknownField([...path, command], api));
    if (api in value) {
      out[command] = value[api];
      delete out[api];
    }
  }
  return out;
}

const unknownField = (path: (string | number)[], instead: string): BodyProblem => ({
  code: 'unknown_field',
  path,
  message: `${path.join('.')} is not an Admin API field; send ${instead}`,
});

const BACK: Readonly<Record<string, string>> = { roleNames: 'role_names', roleIds: 'roles' };

/** A library error told in the client's words: `roleNames` → `role_names`, `members[i].memberId` → `user_uuid`. */
export function inAdminApiWords(error: AdminError): AdminError {
  const problem = <P extends AdminProblem | AdminError>(p: P): P => ({ ...p, path: backPath(p.path), message: backMessage(p.message) });
  return { ...problem(error), ...(error.problems ? { problems: error.problems.map(problem) } : {}) };
}

function backPath(path: readonly (string | number)[]): (string | number)[] {
  return path.map((part, i) => {
    if (typeof part !== 'string') return part;
    if (part === 'memberId' && i === 2 && path[0] === 'members') return 'user_uuid';
    return BACK[part] ?? part;
  });
}

function backMessage(message: string): string {
  return message.replace(/\broleNames\b|\broleIds\b/g, (word) => BACK[word]!).replace(/\bmembers\[(\d+)\]\.memberId\b/g, 'members[$1].user_uuid');
}
