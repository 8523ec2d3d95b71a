import type { Organization } from '../../model/index.js';
import type { Findings } from '../errors.js';
import { connectorsExist, inWorkspace, principalIdFree, type Authority, type CommandSpecs, type Raw } from './spec.js';

type ApiKeyCommand = 'createApiKey' | 'revokeApiKey' | 'setApiKeyConnectorScopes' | 'setApiKeyExpiry' | 'setApiKeySecrets';

/** SPEC §5 API keys: workspace.api_keys.manage in the key's workspace. */
export const apiKeyCommands: CommandSpecs<ApiKeyCommand> = {
  createApiKey: {
    authority: inWorkspace('workspace.api_keys.manage'),
    plan: (o, c, f) => {
      principalIdFree(o, c.keyId, ['keyId'], f);
      const scopes = c.connectorScopes ?? 'all';
      if (scopes !== 'all') connectorsExist(o, scopes, ['connectorScopes'], f);
      if (c.secrets) secretsUnique(c.secrets, f);
      return (d) =>
        void d.apiKeys.set(c.keyId, {
          id: c.keyId,
          name: c.name,
          workspaceId: c.workspaceId,
          status: 'active',
          ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
          connectorScopes: scopes === 'all' ? 'all' : [...scopes],
          ...(c.secrets ? { secrets: c.secrets.map(secretOf) } : {}),
        });
    },
  },
  revokeApiKey: {
    authority: inKeyWorkspace,
    plan: (_o, c) => (d) => void (d.apiKeys.get(c.keyId)!.status = 'revoked'),
  },
  setApiKeyConnectorScopes: {
    authority: inKeyWorkspace,
    plan: (o, c, f) => {
      if (c.connectorScopes !== 'all') connectorsExist(o, c.connectorScopes, ['connectorScopes'], f);
      return (d) => void (d.apiKeys.get(c.keyId)!.connectorScopes = c.connectorScopes === 'all' ? 'all' : [...c.connectorScopes]);
    },
  },
  setApiKeyExpiry: {
    authority: inKeyWorkspace,
    plan: (_o, c) => (d) => {
      const key = d.apiKeys.get(c.keyId)!;
      if (c.expiresAt === null) delete key.expiresAt;
      else key.expiresAt = c.expiresAt;
    },
  },
  setApiKeySecrets: {
    authority: inKeyWorkspace,
    plan: (_o, c, f) => {
      secretsUnique(c.secrets, f);
      return (d) => void (d.apiKeys.get(c.keyId)!.secrets = c.secrets.map(secretOf));
    },
  },
};

type Secret = { readonly sha256: string; readonly notAfter?: string | undefined };
const secretOf = (s: Secret) => (s.notAfter !== undefined ? { sha256: s.sha256, notAfter: s.notAfter } : { sha256: s.sha256 });

function secretsUnique(secrets: readonly Secret[], f: Findings) {
  const seen = new Set<string>();
  secrets.forEach((secret, i) => {
    if (seen.has(secret.sha256)) f.validation('duplicate_entry', ['secrets', i, 'sha256'], 'this secret hash is listed twice');
    seen.add(secret.sha256);
  });
}

/** SPEC §7.20: a missing key has no workspace, so no one manages it: forbidden for everyone. */
function inKeyWorkspace(raw: Raw, o: Organization): Authority {
  const key = typeof raw.keyId === 'string' ? o.apiKeys.get(raw.keyId) : undefined;
  return key ? { action: 'workspace.api_keys.manage', workspace: key.workspaceId } : 'nobody';
}
