/**
 * `npm run -s example:gateway:token -- <login> [workspace]`: an access token for a demo user at one
 * workspace's endpoint, printed on stdout and nothing else, so `TOKEN=$(…)` works.
 *
 * It is what an MCP client does, through the SDK's own `auth()`: discover the endpoint's protected
 * resource metadata, the authorization server's metadata, then an authorization-code + PKCE flow for
 * that endpoint (RFC 8707 `resource`) with the demo client `mcp-demo`. The sign-in page is the
 * development issuer's, filled in headlessly (dev-issuer.ts): this works against the development issuer only.
 *
 *   GATEWAY_URL   the gateway's <base> (default http://127.0.0.1:8787)
 */
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { headlessSignIn, readDevConfig } from './dev.js';
import { MemoryOAuthClient } from './oauth-client.js';

async function main() {
  const [login, workspace = 'ws-research'] = process.argv.slice(2);
  if (login === undefined) {
    console.error('usage: npm run -s example:gateway:token -- <login> [workspace]   (logins: see examples/mcp-gateway/dev.config.json)');
    process.exit(2);
  }
  const base = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  const endpoint = new URL(`${base}/workspaces/${encodeURIComponent(workspace)}/mcp`);
  const demo = readDevConfig().clients.find((client) => client.grant_types?.includes('authorization_code'));
  const redirectUrl = demo?.redirect_uris?.[0];
  if (demo === undefined || redirectUrl === undefined) throw new Error('dev.config.json has no authorization-code client');
  const client = new MemoryOAuthClient({ clientId: demo.client_id, redirectUrl, signIn: (url) => headlessSignIn(url, login, redirectUrl) });
  if ((await auth(client, { serverUrl: endpoint })) !== 'REDIRECT' || client.pendingCode === undefined) throw new Error('the authorization server did not ask for a sign-in');
  await auth(client, { serverUrl: endpoint, authorizationCode: await client.pendingCode });
  const token = client.tokens()?.access_token;
  if (token === undefined) throw new Error('no access token');
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
