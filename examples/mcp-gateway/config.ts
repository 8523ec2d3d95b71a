/** The gateway's own configuration: how to reach each connector's MCP server, and API key hashes. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { UpstreamSpec } from './upstreams.js';

const configSchema = z.strictObject({
  upstreams: z.record(
    z.string().min(1),
    z.union([
      z.strictObject({ command: z.string().min(1), args: z.array(z.string()).optional(), cwd: z.string().optional() }),
      z.strictObject({ url: z.url() }),
    ]),
  ),
  apiKeys: z.array(z.strictObject({ keyId: z.string().min(1), sha256: z.string().regex(/^[0-9a-fA-F]{64}$/) })).default([]),
});

export function readConfig(path: string): { upstreams: Map<string, UpstreamSpec>; apiKeys: { keyId: string; sha256: string }[] } {
  const parsed = configSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  const upstreams = new Map<string, UpstreamSpec>();
  for (const [connectorId, spec] of Object.entries(parsed.data.upstreams)) {
    upstreams.set(
      connectorId,
      'url' in spec ? { url: spec.url } : { command: spec.command, ...(spec.args ? { args: spec.args } : {}), ...(spec.cwd ? { cwd: spec.cwd } : {}) },
    );
  }
  return { upstreams, apiKeys: parsed.data.apiKeys };
}
