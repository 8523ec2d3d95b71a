/**
 * `createPolicy` skips validation only for a snapshot this module parsed itself. That mark is private: no
 * code elsewhere in the process can forge it, with the old global `Symbol.for` registry or with any symbol
 * or property, and a snapshot parsed by another copy of the library is checked again, not trusted.
 */
import { describe, expect, it, vi } from 'vitest';
import { OrganizationError, applyCommand, createPolicy, isParsedOrganization, organizationBuilder, type Organization } from 'org-policy';

const OLD_MARK = Symbol.for('org-policy.parsed-snapshots.v1');

const genuine = () =>
  organizationBuilder('acme')
    .member('ada', 'organization_admin')
    .member('bob')
    .workspace('lab', { members: { bob: null } })
    .organization();

/** A parsed-looking snapshot (maps and all) that no parser saw: bob holds a role that does not exist. */
function forged(): Organization {
  const real = genuine();
  const members = new Map([...real.members.values()].map((m) => [m.id, m.id === 'bob' ? { ...m, orgRoles: ['owner_of_everything'] } : m]));
  return { ...real, members } as unknown as Organization;
}

/** A second copy of the library, as the CommonJS build is beside the ESM one: its own modules, its own mark. */
async function anotherCopy(): Promise<typeof import('org-policy')> {
  vi.resetModules();
  try {
    return await import('org-policy');
  } finally {
    vi.resetModules();
  }
}

describe('the parsed mark', () => {
  it('is not a global: the old Symbol.for registry is neither created nor read', () => {
    genuine();
    expect((globalThis as Record<symbol, unknown>)[OLD_MARK]).toBeUndefined();

    const planted = new WeakSet<object>();
    const fake = forged();
    planted.add(fake);
    (globalThis as Record<symbol, unknown>)[OLD_MARK] = planted;
    try {
      expect(isParsedOrganization(fake)).toBe(false);
      expect(() => createPolicy(fake)).toThrow(OrganizationError);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[OLD_MARK];
    }
  });

  it('cannot be forged with a symbol or property copied onto an object', () => {
    const fake = forged() as unknown as Record<string | symbol, unknown>;
    fake[OLD_MARK] = true;
    fake[Symbol('parsed')] = true;
    fake[Symbol.for('org-policy.parsed')] = true;
    fake['parsed'] = true;
    expect(isParsedOrganization(fake)).toBe(false);
    try {
      createPolicy(fake);
      expect.unreachable('a forged snapshot was trusted');
    } catch (error) {
      expect(error).toBeInstanceOf(OrganizationError);
      expect((error as OrganizationError).problems).toContainEqual(expect.objectContaining({ code: 'unknown_role' }));
    }
  });

  it('a forged snapshot given to applyCommand is validated too, never applied', () => {
    const fake = forged();
    const global = globalThis as Record<symbol, WeakSet<object> | undefined>;
    const had = OLD_MARK in global;
    (global[OLD_MARK] ??= new WeakSet<object>()).add(fake); // as a forger would, into the old registry
    let result: ReturnType<typeof applyCommand>;
    try {
      result = applyCommand(fake, 'ada', { type: 'suspendMember', memberId: 'bob' }, { now: 0 });
    } catch (error) {
      expect(error).toBeInstanceOf(OrganizationError); // an invalid snapshot is not a command's refusal
      return;
    } finally {
      if (!had) delete global[OLD_MARK];
    }
    expect(result.ok).toBe(false);
  });

  it('a valid snapshot parsed by another copy of the library is parsed again here, and works', async () => {
    const other = await anotherCopy();
    expect(other.isParsedOrganization).not.toBe(isParsedOrganization);
    const foreign = other.organizationBuilder('acme').member('ada', 'organization_admin').member('bob').workspace('lab', { members: { bob: null } }).organization();
    expect(other.isParsedOrganization(foreign)).toBe(true);
    expect(isParsedOrganization(foreign)).toBe(false);
    const policy = createPolicy(foreign);
    expect(policy.organization).not.toBe(foreign);
    expect(isParsedOrganization(policy.organization)).toBe(true);
    expect(policy.can('bob', 'studio.use', 'lab')).toBe(true);
  });

  it('what this module parsed is trusted as it is', () => {
    const organization = genuine();
    expect(isParsedOrganization(organization)).toBe(true);
    expect(createPolicy(organization).organization).toBe(organization);
  });
});
