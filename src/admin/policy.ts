import type { Organization } from '../model/index.js';
import { createPolicy, type Policy } from '../policy/index.js';

/**
 * The policy of one snapshot, compiled once: a sequence of commands on the same snapshot object
 * (or a refused command, which returns it) does not recompile. Kept in this one function so that an
 * incremental `policy.update(next, patches)` can replace the full build later.
 */
const policies = new WeakMap<Organization, Policy>();

export function policyFor(organization: Organization): Policy {
  let policy = policies.get(organization);
  if (policy === undefined) {
    policy = createPolicy(organization);
    policies.set(organization, policy);
  }
  return policy;
}
