import type { WirePatch } from '../change/index.js';
import type { Organization } from '../model/index.js';
import { createPolicy, type Policy } from '../policy/index.js';

/**
 * The policy of one snapshot, compiled once: a sequence of commands on the same snapshot object
 * (or a refused command, which returns it) does not recompile. A snapshot produced by a command is
 * derived from its predecessor's policy and the command's patches (`policy.update`) when it is first
 * asked for, instead of a full build.
 */
const policies = new WeakMap<Organization, Policy>();
const derivations = new WeakMap<Organization, { readonly previous: Organization; readonly patches: readonly WirePatch[] }>();

export function policyFor(organization: Organization): Policy {
  let policy = policies.get(organization);
  if (policy === undefined) {
    const derivation = derivations.get(organization);
    const previous = derivation && policies.get(derivation.previous);
    policy = previous && derivation ? previous.update(organization, derivation.patches) : createPolicy(organization);
    policies.set(organization, policy);
    derivations.delete(organization);
  }
  return policy;
}

/** Records that `next` is `previous` with `patches` applied, so its policy can be updated rather than rebuilt. */
export function notePatched(previous: Organization, next: Organization, patches: readonly WirePatch[]): void {
  if (policies.has(previous)) derivations.set(next, { previous, patches });
}

/**
 * The policy of `next`, a snapshot that `patches` made from `previous` (one command or several in
 * order), kept for `next` so that it is derived only once: from the policy of the snapshot just before
 * `next` when that one is compiled (within a batch, the last command's patches only), else with
 * `policy.update` on `previous`'s policy and all the patches.
 */
export function nextPolicy(previous: Organization, next: Organization, patches: readonly WirePatch[]): Policy {
  if (next === previous) return policyFor(previous);
  const derivation = derivations.get(next);
  if (policies.has(next) || (derivation !== undefined && policies.has(derivation.previous))) return policyFor(next);
  const policy = policyFor(previous).update(next, patches);
  policies.set(next, policy);
  derivations.delete(next);
  return policy;
}
