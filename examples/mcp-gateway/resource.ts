/**
 * Each workspace's MCP endpoint is its own OAuth protected resource (RFC 9728), named by its canonical
 * URI `<base>/workspaces/<id>/mcp`, which is the audience of the tokens issued for it (RFC 8707). The
 * workspace comes from the path alone, and one workspace has exactly one path: a segment that is not
 * the canonical encoding of its id is not an endpoint.
 */
import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';

export const WELL_KNOWN = '/.well-known/oauth-protected-resource';
const MAX_WORKSPACE_ID_LENGTH = 256;

export type Route =
  | { readonly kind: 'mcp'; readonly workspace: string }
  | { readonly kind: 'metadata'; readonly workspace: string | undefined }
  | { readonly kind: 'health' };

export interface Resources {
  /** `<base>` without a trailing slash: an origin, with the path prefix a front proxy keeps, if any. */
  readonly base: string;
  /** The resource the root metadata describes: the gateway's origin. */
  readonly origin: string;
  /** The canonical URI of a workspace's endpoint: the token audience. */
  resource(workspace: string): string;
  /** Where that endpoint's metadata is (path-suffixed, as MCP clients look first). */
  metadataUrl(workspace: string | undefined): string;
  route(path: string): Route | undefined;
}

export function resources(baseUrl: string): Resources {
  const url = new URL(baseUrl);
  if (url.search !== '' || url.hash !== '') throw new Error(`GATEWAY_BASE_URL must have no query or fragment: ${baseUrl}`);
  const prefix = url.pathname.replace(/\/+$/, '');
  const base = `${url.origin}${prefix}`;
  const endpointPath = (workspace: string) => `${prefix}/workspaces/${encodeURIComponent(workspace)}/mcp`;
  const workspaceOf = (path: string): string | undefined => {
    const match = /^\/workspaces\/([^/]+)\/mcp$/.exec(path);
    if (match === null) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(match[1]!);
    } catch {
      return undefined;
    }
    return id.length <= MAX_WORKSPACE_ID_LENGTH && encodeURIComponent(id) === match[1] ? id : undefined;
  };
  return {
    base,
    origin: url.origin,
    resource: (workspace) => `${url.origin}${endpointPath(workspace)}`,
    metadataUrl: (workspace) => `${url.origin}${WELL_KNOWN}${workspace === undefined ? '' : endpointPath(workspace)}`,
    route(path) {
      if (path === '/healthz') return { kind: 'health' };
      if (path === WELL_KNOWN) return { kind: 'metadata', workspace: undefined };
      if (path.startsWith(`${WELL_KNOWN}${prefix}/`)) {
        const workspace = workspaceOf(path.slice(WELL_KNOWN.length + prefix.length));
        return workspace === undefined ? undefined : { kind: 'metadata', workspace };
      }
      if (!path.startsWith(`${prefix}/`)) return undefined;
      const workspace = workspaceOf(path.slice(prefix.length));
      return workspace === undefined ? undefined : { kind: 'mcp', workspace };
    },
  };
}

/**
 * RFC 9728 metadata. For a workspace it describes that endpoint; at the root, the gateway itself — a
 * token for the root is accepted at no endpoint, and every 401 points to the workspace's own document.
 * Any well-formed workspace id gets a document, so the metadata tells no one which workspaces exist.
 */
export function metadataDocument(resource: string, authorizationServers: readonly string[], scopes: readonly string[]): OAuthProtectedResourceMetadata {
  return {
    resource,
    ...(authorizationServers.length === 0 ? {} : { authorization_servers: [...authorizationServers] }),
    scopes_supported: [...scopes],
    bearer_methods_supported: ['header'],
    resource_name: 'org-policy MCP gateway',
  };
}

/** RFC 6750 §3: the challenge of a 401 or a 403, pointing to the metadata (RFC 9728 §5.1). */
export function challenge(metadataUrl: string, scope: string, error?: { readonly code: 'invalid_token' | 'insufficient_scope' | 'invalid_request'; readonly description: string }): string {
  const parts = [`resource_metadata="${metadataUrl}"`, `scope="${scope}"`];
  // Descriptions are the gateway's own fixed sentences; quotes and backslashes are dropped all the same.
  if (error !== undefined) parts.unshift(`error="${error.code}"`, `error_description="${error.description.replace(/["\\\r\n]/g, '')}"`);
  return `Bearer ${parts.join(', ')}`;
}
