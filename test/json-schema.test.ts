/**
 * The snapshot's JSON Schema names itself (`$id`, `title`) and says what it is for: structure only. The
 * references and invariants are `parseOrganization`'s, and the docs say so where they offer the schema.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORGANIZATION_SCHEMA_ID, organizationBuilder, organizationJsonSchema, organizationSchema, parseOrganization } from 'org-policy';

const root = resolve(import.meta.dirname, '..');
const schema = organizationJsonSchema() as { $schema: string; $id: string; title: string; description: string };

describe('organizationJsonSchema()', () => {
  it('has a draft 2020-12 $schema, an absolute $id and a title, first', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(ORGANIZATION_SCHEMA_ID);
    expect(new URL(schema.$id).protocol).toBe('https:');
    expect(schema.title).toMatch(/organization snapshot/);
    expect(Object.keys(schema).slice(0, 4)).toEqual(['$schema', '$id', 'title', 'description']);
  });

  it('says it checks structure only, and that parseOrganization checks the rest', () => {
    expect(schema.description).toMatch(/^Structure only/);
    expect(schema.description).toContain('parseOrganization');
  });

  it('is structure only indeed: a snapshot with a dangling reference and no admin is well-formed but refused by parseOrganization', () => {
    const json = organizationBuilder('acme').member('bob').toJSON() as Record<string, unknown>;
    json.groups = [{ id: 'g', name: 'g', memberIds: ['nobody'], orgRoles: [] }];
    expect(organizationSchema.safeParse(json).success).toBe(true); // what the JSON Schema is generated from
    const parsed = parseOrganization(json);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['dangling_reference', 'no_active_admin']));
  });

  it('README and docs/concepts.md say the same where they offer it', () => {
    for (const file of ['README.md', 'docs/concepts.md']) {
      const text = readFileSync(resolve(root, file), 'utf8').replace(/\s+/g, ' ');
      const at = text.indexOf('organization.schema.json');
      expect(at, file).toBeGreaterThan(-1);
      const around = text.slice(at, at + 500);
      expect(around, file).toMatch(/structure only/i);
      expect(around, file).toContain('parseOrganization');
    }
  });
});
