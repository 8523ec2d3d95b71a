/**
 * The request sequences Microsoft Entra ID and Okta document, replayed over HTTP against the service on
 * a PGlite store; after each step, the answer and the decisions that follow from it, read from the
 * followed policy a gateway would use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { entraGroups, entraQuirks, entraUsers } from './fixtures/entra.js';
import { oktaGroups, oktaUsers } from './fixtures/okta.js';
import { read, substitute, type Fixture } from './fixtures/steps.js';
import { startScimHarness, type ScimHarness } from './testing.js';

let h: ScimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function replay(fixture: Fixture) {
  // Each fixture names the public document whose sequence it replays.
  expect(fixture.follows).toMatch(/(learn\.microsoft\.com|developer\.okta\.com)\//);
  h = await startScimHarness();
  const harness = h;
  const captured = new Map<string, string>();
  for (const step of fixture.steps) {
    const label = `${fixture.name} — ${step.name}`;
    if (step.request !== undefined) {
      const request = substitute(step.request, captured);
      const reply = await harness.scim(request.method, request.path, request.body);
      expect({ step: label, status: reply.status }).toEqual({ step: label, status: step.expect!.status });
      if (step.expect?.body !== undefined) expect(reply.body, label).toMatchObject(substitute(step.expect.body, captured) as object);
      for (const [name, path] of Object.entries(step.capture ?? {})) {
        const value = read(reply.body, path);
        expect(typeof value, `${label}: capture ${name}`).toBe('string');
        captured.set(name, value as string);
      }
    }
    if (step.admin !== undefined) {
      const applied = await harness.store.apply('m-ada', substitute(step.admin, captured), { now: Date.now() });
      expect(applied.ok, label).toBe(true);
      if (applied.ok) await harness.follower.waitFor(applied.revision, { timeoutMs: 5_000 });
    }
    for (const decision of substitute(step.decisions ?? [], captured)) {
      const policy = harness.follower.policy;
      if (decision.action !== undefined) {
        expect({ step: label, ...decision, allowed: policy.can(decision.principal, decision.action, decision.workspace) }).toEqual({ step: label, ...decision });
      }
      if (decision.connector !== undefined) {
        expect({ step: label, ...decision, tools: [...policy.toolsAvailable(decision.principal, decision.connector, decision.workspace)] }).toEqual({ step: label, ...decision });
      }
    }
  }
  return { harness, captured };
}

describe('Microsoft Entra ID, as its provisioning documents show it', () => {
  it(entraUsers.name, async () => {
    await replay(entraUsers);
  });

  it(entraGroups.name, async () => {
    await replay(entraGroups);
  });

  it(entraQuirks.name, async () => {
    await replay(entraQuirks);
  });
});

describe('Okta, as its SCIM 2.0 reference shows it', () => {
  it(oktaUsers.name, async () => {
    await replay(oktaUsers);
  });

  it(oktaGroups.name, async () => {
    await replay(oktaGroups);
  });

  it('an import pages through every user with startIndex and count, each once, until totalResults', async () => {
    h = await startScimHarness();
    for (let i = 0; i < 242; i++) {
      const created = await h.scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `user${i}@okta.local`, name: { givenName: 'User', familyName: String(i) }, active: true });
      expect(created.status).toBe(201);
    }
    const seen: string[] = [];
    let total = Number.POSITIVE_INFINITY;
    for (let startIndex = 1; startIndex <= total; startIndex += 100) {
      const page = await h.scim('GET', `/Users?startIndex=${startIndex}&count=100`);
      expect(page.status).toBe(200);
      expect(page.body.startIndex).toBe(startIndex);
      expect(page.body.itemsPerPage).toBe(page.body.Resources.length);
      total = page.body.totalResults;
      seen.push(...page.body.Resources.map((user: { id: string }) => user.id));
    }
    expect(total).toBe(250); // the sample's 8 members and the 242 created
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(new Set(seen)).toEqual(new Set(h.follower.organization.members.keys()));
    // past the end: an empty page that still says how many there are
    const after = await h.scim('GET', '/Users?startIndex=251&count=100');
    expect(after.body).toMatchObject({ totalResults: 250, startIndex: 251, itemsPerPage: 0, Resources: [] });
  });
});
