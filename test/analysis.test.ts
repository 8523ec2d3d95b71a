import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  accessOf,
  applyCommand,
  createPolicy,
  diffAccess,
  parseOrganization,
  previewCommand,
  whoCan,
  whoCanInvoke,
  type AccessChange,
  type Organization,
  type OrganizationJson,
} from 'org-policy';
import { INSTANTS, arbOrganization } from './arbitraries.js';

const RUNS = { numRuns: 1000 };

function parsed(json: OrganizationJson): Organization {
  const result = parseOrganization(json);
  if (!result.ok) throw new Error(`arbOrganization gave an invalid snapshot: ${JSON.stringify(result.problems)}`);
  return result.organization;
}

/** The decisions' options, every kind: expiring keys judged as `can` judges them, both products. */
const arbOptions = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(...INSTANTS).map((now) => ({ now })),
  fc.record({ now: fc.constantFrom(...INSTANTS), product: fc.constantFrom('vibe' as const, 'studio' as const) }),
);

const principalsOf = (org: Organization) => [...org.members.keys(), ...org.apiKeys.keys()];
const actionNames = ACTIONS.map((a) => a.name);
const changeKey = (c: AccessChange) => JSON.stringify([c.principal, c.workspace, c.kind, c.connector ?? null, c.action]);

/** An admin command on the organization's own ids, run by one of its active organization admins (direct or through a group). */
function arbCommandOn(org: Organization) {
  const members = [...org.members.keys(), 'new-member'];
  const workspaces = [...org.workspaces.keys(), 'new-ws'];
  const groups = [...org.groups.keys(), 'new-group'];
  const connectors = [...org.connectors.keys()];
  const policy = createPolicy(org);
  const admins = [...org.members.keys()].filter((m) => policy.can(m, 'org.workspaces.manage'));
  const pick = <T,>(values: readonly T[]) => fc.constantFrom(...values);
  const workspaceRoles = fc.subarray(['user', 'dev', 'mistral_code_user', 'workspace_contributor', 'workspace_admin', 'observability_viewer'], { maxLength: 2 });
  const withRoles = (roles: string[]) => (roles.length === 0 ? {} : { roleNames: roles });
  const commands: fc.Arbitrary<Record<string, unknown>>[] = [
    fc.record({ type: fc.constant('addWorkspaceMembers'), workspaceId: pick(workspaces), member: pick(members), roles: workspaceRoles }).map(
      ({ type, workspaceId, member, roles }) => ({ type, workspaceId, members: [{ memberId: member, ...withRoles(roles) }] }),
    ),
    fc.record({ type: fc.constant('removeWorkspaceMember'), workspaceId: pick(workspaces), memberId: pick(members) }),
    fc.record({ type: fc.constant('setMemberOrgRoles'), memberId: pick(members), roleNames: fc.subarray(['member', 'billing_manager', 'organization_admin'], { minLength: 1 }) }),
    fc.record({ type: fc.constantFrom('suspendMember', 'reactivateMember', 'removeMember'), memberId: pick(members) }),
    fc.record({ type: fc.constant('deleteWorkspace'), workspaceId: pick(workspaces) }),
    fc.record({ type: fc.constant('setGroupWorkspaceRoles'), workspaceId: pick(workspaces), groupId: pick(groups), roles: workspaceRoles }).map(
      ({ roles, ...rest }) => ({ ...rest, ...withRoles(roles) }),
    ),
    fc.record({ type: fc.constant('setGroupMembers'), groupId: pick(groups), memberIds: fc.subarray(members.filter((m) => m !== 'new-member')) }),
  ];
  if (connectors.length > 0) {
    commands.push(
      fc.record({ type: fc.constant('setConnectorPermission'), workspaceId: pick(workspaces), connectorId: pick(connectors), mode: fc.constantFrom('allowed', 'blocked') }),
      fc.record({ type: fc.constant('removeConnector'), connectorId: pick(connectors) }),
    );
  }
  return fc.record({ actor: pick(admins.length > 0 ? admins : members), command: fc.oneof(...commands) });
}

/** A random organization, and another one derived from it by one admin command (shared ids, some access changed). */
const arbPair = arbOrganization()
  .map(parsed)
  .chain((before) => arbCommandOn(before).map(({ actor, command }) => ({ before, actor, command })));

describe('analysis — property-based on random small organizations', () => {
  it('whoCan: p is listed for (action, workspace) exactly when can(p, action, workspace), with explain’s grants', () => {
    fc.assert(
      fc.property(arbOrganization(), arbOptions, fc.constantFrom(...actionNames), fc.nat(), (json, options, action, wsPick) => {
        const policy = createPolicy(json);
        const workspaces = [undefined, ...policy.organization.workspaces.keys()];
        const workspace = workspaces[wsPick % workspaces.length];
        const found = new Map(whoCan(policy, action, workspace, options).map((p) => [p.principal, p]));
        for (const principal of principalsOf(policy.organization)) {
          const explanation = policy.explain(principal, action, workspace, options);
          expect(found.has(principal)).toBe(policy.can(principal, action, workspace, options));
          if (explanation.allowed) expect(found.get(principal)?.grants).toEqual(explanation.grants);
        }
      }),
      RUNS,
    );
  });

  it('whoCanInvoke: p is listed for (connector, tool, workspace) exactly when canInvoke, and a listed member has a product grant', () => {
    fc.assert(
      fc.property(arbOrganization(), arbOptions, fc.nat(), fc.nat(), (json, options, toolPick, wsPick) => {
        const policy = createPolicy(json);
        const org = policy.organization;
        const tools = [...org.connectors.values()].flatMap((c) => c.tools.map((t) => [c.id, t.name] as const));
        const workspaces = [...org.workspaces.keys()];
        if (tools.length === 0 || workspaces.length === 0) return;
        const [connector, tool] = tools[toolPick % tools.length]!;
        const workspace = workspaces[wsPick % workspaces.length]!;
        const found = new Map(whoCanInvoke(policy, connector, tool, workspace, options).map((p) => [p.principal, p]));
        for (const principal of principalsOf(org)) {
          expect(found.has(principal)).toBe(policy.canInvoke(principal, connector, tool, workspace, options));
          const entry = found.get(principal);
          if (entry !== undefined) {
            expect(entry.grants.length).toBeGreaterThan(0);
            const needsCredential = org.connectors.get(connector)?.authentication !== 'none';
            expect(entry.credential === 'none').toBe(!needsCredential);
          }
        }
      }),
      RUNS,
    );
  });

  it('accessOf(p) agrees with can on every action and with toolsAvailable on every connector of every workspace', () => {
    fc.assert(
      fc.property(arbOrganization(), arbOptions, fc.nat(), (json, options, principalPick) => {
        const policy = createPolicy(json);
        const org = policy.organization;
        const principals = [...principalsOf(org), 'nobody'];
        const principal = principals[principalPick % principals.length]!;
        const report = accessOf(policy, principal, options);
        expect(Object.isFrozen(report)).toBe(true);
        for (const action of actionNames) {
          if (ACTIONS.find((a) => a.name === action)?.scope === 'workspace') continue;
          expect(report.organization.includes(action)).toBe(policy.can(principal, action, undefined, options));
        }
        for (const workspace of org.workspaces.keys()) {
          const entry = report.workspaces.find((w) => w.workspace === workspace);
          for (const action of actionNames) {
            if (ACTIONS.find((a) => a.name === action)?.scope === 'organization') continue;
            expect(entry?.actions.includes(action) ?? false).toBe(policy.can(principal, action, workspace, options));
          }
          for (const connector of org.connectors.values()) {
            const tools = entry?.connectors.find((c) => c.connector === connector.id)?.tools ?? [];
            expect(tools).toEqual(policy.toolsAvailable(principal, connector.id, workspace, options));
          }
        }
      }),
      RUNS,
    );
  });

  it('diffAccess(s, s) is empty', () => {
    fc.assert(
      fc.property(arbOrganization(), arbOptions, (json, options) => {
        expect(diffAccess(createPolicy(json), createPolicy(json), options)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('what diffAccess(a, b) gains is what diffAccess(b, a) loses, and every change is a real change of can / canInvoke', () => {
    fc.assert(
      fc.property(arbPair, arbOptions, ({ before, actor, command }, options) => {
        const result = applyCommand(before, actor, command, options?.now === undefined ? {} : { now: options.now });
        const a = createPolicy(before);
        const b = createPolicy(result.snapshot);
        const forward = diffAccess(a, b, options);
        const backward = diffAccess(b, a, options);
        const gained = forward.filter((c) => c.change === 'gained').map(changeKey).sort();
        const lostBack = backward.filter((c) => c.change === 'lost').map(changeKey).sort();
        expect(gained).toEqual(lostBack);
        expect(forward.filter((c) => c.change === 'lost').map(changeKey).sort()).toEqual(backward.filter((c) => c.change === 'gained').map(changeKey).sort());
        for (const c of forward) {
          const decide = (p: typeof a) =>
            c.kind === 'tool' ? p.canInvoke(c.principal, c.connector!, c.action, c.workspace!, options) : p.can(c.principal, c.action, c.workspace, options);
          expect(decide(a)).toBe(c.change === 'lost');
          expect(decide(b)).toBe(c.change === 'gained');
          expect(c.before.allowed).toBe(c.change === 'lost');
          expect(c.after.allowed).toBe(c.change === 'gained');
        }
      }),
      RUNS,
    );
  });

  it('previewCommand applies nothing, and applying the command afterwards gives the diff it predicted', () => {
    fc.assert(
      fc.property(arbPair, arbOptions, ({ before, actor, command }, options) => {
        const revision = before.revision;
        const preview = previewCommand(before, actor, command, options ?? {});
        expect(before.revision).toBe(revision);
        const applied = applyCommand(before, actor, command, options?.now === undefined ? {} : { now: options.now });
        expect(preview.ok).toBe(applied.ok);
        const actual = applied.ok ? diffAccess(createPolicy(before), createPolicy(applied.snapshot), options) : [];
        expect(preview.diff).toEqual(actual);
        if (!applied.ok) expect(preview.result.ok).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('analysis on the sample organization', () => {
  const sample = parsed(JSON.parse(JSON.stringify(require_sample())) as OrganizationJson);

  it('previewCommand: removing a default contributor from a workspace loses its product access there (SPEC §3.3, §3.4)', () => {
    const preview = previewCommand(sample, 'm-ada', { type: 'removeWorkspaceMember', workspaceId: 'ws-research', memberId: 'm-eve' }, { now: INSTANTS[0] });
    expect(preview.ok).toBe(true);
    const actions = preview.diff.filter((c) => c.kind === 'action').map((c) => [c.principal, c.workspace, c.action, c.change]);
    expect(actions).toEqual([
      ['m-eve', 'ws-research', 'vibe.use', 'lost'],
      ['m-eve', 'ws-research', 'studio.use', 'lost'],
    ]);
    expect(preview.diff[0]?.before).toEqual({ allowed: true, grants: [expect.objectContaining({ role: 'workspace_contributor', default: true })] });
    expect(preview.diff[0]?.after).toEqual({ allowed: false, reason: 'not_a_member' });
    expect(sample.workspaces.get('ws-research')?.members.has('m-eve')).toBe(true);
  });

  it('previewCommand of a refused command: its error and no diff', () => {
    const preview = previewCommand(sample, 'm-eve', { type: 'deleteWorkspace', workspaceId: 'ws-research' }, {});
    expect(preview.ok).toBe(false);
    expect(preview.result.ok === false && preview.result.error.class).toBe('forbidden');
    expect(preview.diff).toEqual([]);
  });
});

function require_sample(): unknown {
  return JSON.parse(readFileSync(new URL('../examples/sample-organization.json', import.meta.url), 'utf8'));
}
