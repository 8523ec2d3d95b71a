/** Build step: writes the snapshot's JSON Schema, generated from the zod schema, into the package. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { organizationJsonSchema } from '../src/index.js';

mkdirSync('dist', { recursive: true });
writeFileSync('dist/organization.schema.json', `${JSON.stringify(organizationJsonSchema(), null, 2)}\n`);
console.log('dist/organization.schema.json written');
