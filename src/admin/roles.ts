import { ROLES } from '../roles/index.js';

/** One role as `GET /api/admin/roles` lists it (SPEC §2, seed [R]). */
export interface RoleListing {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly scope: 'organization' | 'workspace';
  readonly actions: readonly string[];
}

const LISTING = Object.freeze({
  roles: Object.freeze(
    ROLES.map((role) => Object.freeze({ id: role.id, name: role.name, label: role.label, scope: role.scope, actions: Object.freeze([...role.actions]) })),
  ),
});

/**
 * SPEC §5, §7.20: the JSON of `GET /api/admin/roles` — anyone may read it; a read changes nothing, so
 * it has no revision and no audit event, and it is not a command.
 */
export function listRoles(): { readonly roles: readonly RoleListing[] } {
  return LISTING;
}
