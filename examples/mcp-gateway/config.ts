/**
 * The gateway's configuration file: how to reach each connector's MCP server, which issuer's tokens it
 * accepts, and session limits. Secrets are not in it: an upstream's credential and the front proxy's
 * proof come from the environment.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { OAuthOptions } from './identity.js';
import type { SessionLimits } from './sessions.js';
import type { UpstreamSpec } from './upstreams.js';

const configSchema = z.strictObject({
  upstreams: z.record(
    z.string().min(1),
    z.union([
      z.strictObject({ command: z.string().min(1), args: z.array(z.string()).optional(), cwd: z.string().optional() }),
      // The connector's own credential, sent as `Authorization: Bearer $<env>` to its upstream.
      z.strictObject({ url: z.url(), bearerTokenEnv: z.string().min(1).optional() }),
    ]),
  ),
  oauth: z
    .strictObject({
      issuer: z.url(),
      jwksUri: z.url().optional(),
      memberIdClaim: z.string().min(1).optional(),
      clockToleranceSeconds: z.number().int().min(0).max(300).optional(),
    })
    .optional(),
  sessions: z
    .strictObject({
      maxSessions: z.number().int().positive().optional(),
      maxSessionsPerPrincipal: z.number().int().positive().optional(),
      idleMs: z.number().int().positive().optional(),
    })
    .optional(),
});

export interface GatewayConfig {
  readonly upstreams: Map<string, UpstreamSpec>;
  readonly oauth: OAuthOptions | undefined;
  readonly sessions: SessionLimits;
}

export function readConfig(path: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = configSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  const upstreams = new Map<string, UpstreamSpec>();
  for (const [connectorId, spec] of Object.entries(parsed.data.upstreams)) {
    if ('url' in spec) {
      const token = spec.bearerTokenEnv === undefined ? undefined : env[spec.bearerTokenEnv];
      if (spec.bearerTokenEnv !== undefined && !token) throw new Error(`${path}: upstream ${connectorId} needs ${spec.bearerTokenEnv} in the environment`);
      upstreams.set(connectorId, { url: spec.url, ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }) });
    } else upstreams.set(connectorId, { command: spec.command, ...(spec.args ? { args: spec.args } : {}), ...(spec.cwd ? { cwd: spec.cwd } : {}) });
  }
  const oauth = parsed.data.oauth;
  return {
    upstreams,
    oauth: oauth === undefined ? undefined : (Object.fromEntries(Object.entries(oauth).filter(([, v]) => v !== undefined)) as unknown as OAuthOptions),
    sessions: Object.fromEntries(Object.entries(parsed.data.sessions ?? {}).filter(([, v]) => v !== undefined)) as SessionLimits,
  };
}
