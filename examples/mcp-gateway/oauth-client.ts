/**
 * An MCP client's OAuth state, in memory: what the SDK's `auth()` and its Streamable HTTP transport
 * need to run an authorization-code + PKCE flow. Signing in is left to `signIn`, which receives the
 * authorization URL (a browser would open it) and returns the code delivered to the redirect URI.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export interface MemoryOAuthClientOptions {
  readonly redirectUrl: string;
  /** A pre-registered client; without one, the SDK registers dynamically (RFC 7591). */
  readonly clientId?: string;
  readonly signIn: (authorizationUrl: URL) => Promise<string>;
}

export class MemoryOAuthClient implements OAuthClientProvider {
  private information: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';
  /** The code `signIn` returned for the last redirect, for `transport.finishAuth(code)`. */
  pendingCode: Promise<string> | undefined;

  constructor(private readonly options: MemoryOAuthClientOptions) {
    if (options.clientId !== undefined) this.information = { client_id: options.clientId };
  }

  get redirectUrl(): string {
    return this.options.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'org-policy gateway demo client',
      redirect_uris: [this.options.redirectUrl],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    } as OAuthClientMetadata;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.information;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.information = information;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    this.pendingCode = this.options.signIn(authorizationUrl);
    this.pendingCode.catch(() => undefined); // Read by whoever finishes the flow.
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }
}
