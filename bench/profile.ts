/** `node --cpu-prof --import tsx bench/profile.ts [--scale=M] [--what=build|can|tools|explain]`: one hot loop to profile. */
import { createPolicy, parseOrganization } from 'org-policy';
import { canStream, generateOrganization, toolsStream, type Scale } from './generate.js';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const generated = generateOrganization(arg('scale', 'M') as Scale);
const parsed = parseOrganization(generated.json);
if (!parsed.ok) throw new Error('invalid');
const policy = createPolicy(parsed.organization);
const what = arg('what', 'tools');
let sink = 0;
const start = performance.now();
if (what === 'build') {
  for (let pass = 0; pass < 2; pass++) sink += createPolicy(parsed.organization).organization.revision;
} else if (what === 'tools') {
  const queries = toolsStream(generated, 200_000);
  const tools = policy.toolsAvailable as (...a: unknown[]) => readonly string[];
  for (let pass = 0; pass < 20; pass++) for (const q of queries) sink += tools(q.principal, q.connector, q.workspace, q.options).length;
} else {
  const queries = canStream(generated, 1_000_000);
  const fn = (what === 'can' ? policy.can : policy.explain) as (...a: unknown[]) => unknown;
  for (let pass = 0; pass < (what === 'can' ? 10 : 1); pass++) for (const q of queries) if (fn(q.principal, q.action, q.workspace, q.options)) sink++;
}
console.log(what, (performance.now() - start).toFixed(0), 'ms', sink);
