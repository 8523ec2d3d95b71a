import type { WirePatch } from '../change/index.js';
import type { Organization } from '../model/index.js';
import { compiledPolicyOf, createPolicy, type Policy } from '../policy/index.js';

/**
 * The policy of one snapshot, compiled once: a sequence of commands on the same snapshot object
 * (or a refused command, which returns it) does not recompile. A snapshot produced by a command is
 * derived from its predecessor's policy and the command's patches (`policy.update`) when it is first
 * asked for, instead of a full build; so is a snapshot that already has a policy from elsewhere (one a
 * replica or a writer reached with `policy.update(change)`).
 */
const policies = new WeakMap<Organization, Policy>();
/** A policy compiled for `organization` already: by this layer, or by anyone (a replica's `policy.update`). */
const known = (organization: Organization): Policy | undefined => policies.get(organization) ?? compiledPolicyOf(organization);
const derivations = new WeakMap<Organization, { readonly previous: Organization; readonly patches: readonly WirePatch[] }>();

export function policyFor(organization: Organization): Policy {
  let policy = known(organization);
  if (policy === undefined) {
    const derivation = derivations.get(organization);
    const previous = derivation && known(derivation.previous);
    policy = previous && derivation ? previous.update(organization, derivation.patches) : createPolicy(organization);
    policies.set(organization, policy);
    derivations.delete(organization);
  }
  return policy;
}

/** Records that `next` is `previous` with `patches` applied, so its policy can be updated rather than rebuilt. */
export function notePatched(previous: Organization, next: Organization, patches: readonly WirePatch[]): void {
  if (known(previous) !== undefined) derivations.set(next, { previous, patches });
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
  if (known(next) !== undefined || (derivation !== undefined && known(derivation.previous) !== undefined)) return policyFor(next);
  const policy = policyFor(previous).update(next, patches);
  policies.set(next, policy);
  derivations.delete(next);
  return policy;
}
