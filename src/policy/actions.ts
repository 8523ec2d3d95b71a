import type { Action, RoleName } from '../roles/index.js';
import { ACTIONS, ROLES } from '../roles/index.js';

/** Each action interned to one bit, so that an effective action set is a number and a decision a bit test. */
export const ACTION_BITS: ReadonlyMap<unknown, number> = new Map(ACTIONS.map((a, i) => [a.name, 1 << i]));

export function bitOf(action: Action): number {
  return ACTION_BITS.get(action)!;
}

export const ADMIN_ACCESS = bitOf('admin.access');
export const CODE_USE = bitOf('code.use');
export const VIBE_USE = bitOf('vibe.use');
export const STUDIO_USE = bitOf('studio.use');

function maskOf(actions: readonly Action[]): number {
  let mask = 0;
  for (const action of actions) mask |= bitOf(action);
  return mask;
}

/** Actions asked in the organization only (`admin.access` has its own rule). */
export const ORGANIZATION_ONLY = maskOf(ACTIONS.filter((a) => a.scope === 'organization').map((a) => a.name));
/** SPEC D1: the workspace administration an `organization_admin` holds in every workspace. */
export const D1_ACTIONS = maskOf([
  'workspace.members.manage',
  'workspace.connectors.manage',
  'workspace.api_keys.manage',
  'workspace.settings.manage',
]);

export const ROLE_MASKS: ReadonlyMap<RoleName, number> = new Map(ROLES.map((r) => [r.name, maskOf(r.actions)]));

export function rolesMask(roles: readonly RoleName[]): number {
  let mask = 0;
  for (const role of roles) mask |= ROLE_MASKS.get(role) ?? 0;
  return mask;
}
