/**
 * What the development setup shares without starting anything (so a client such as token.ts loads no
 * authorization server): dev.config.json — the development issuer's demo users and clients, and the
 * demo API keys' secrets — and a headless sign-in at the development issuer's own pages.
 * Development only: everyone with the repository knows these values.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientMetadata } from 'oidc-provider';
import type { DevUser } from './dev-issuer.js';

export interface DevConfig {
  readonly issuerPort: number;
  readonly users: readonly DevUser[];
  readonly clients: readonly ClientMetadata[];
  /** API key id → its demo secret (snapshot.json holds the SHA-256). */
  readonly apiKeySecrets: Readonly<Record<string, string>>;
}

export function readDevConfig(path = fileURLToPath(new URL('./dev.config.json', import.meta.url))): DevConfig {
  return JSON.parse(readFileSync(path, 'utf8')) as DevConfig;
}

/**
 * Signs in at the development issuer's own pages without a browser: follows the authorization URL's
 * redirects, submits the login (any password) and the consent, and returns the authorization code
 * delivered to `redirectUri`. Cookies are kept between steps as a browser would.
 */
export async function headlessSignIn(authorizationUrl: URL, login: string, redirectUri: string): Promise<string> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl.href;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < 12; step++) {
    const response = await fetch(url, {
      method: form === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form === undefined ? {} : { body: form.toString() }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      if (at > 0) cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    form = undefined;
    const location = response.headers.get('location');
    if (location !== null) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.href.startsWith(redirectUri)) {
        const code = next.searchParams.get('code');
        if (code === null) throw new Error(`sign-in refused: ${next.searchParams.get('error') ?? 'no code'} ${next.searchParams.get('error_description') ?? ''}`.trim());
        return code;
      }
      url = next.href;
      continue;
    }
    const page = await response.text();
    if (!response.ok) throw new Error(`sign-in page answered ${response.status}`);
    // devInteractions renders one form per prompt: login, then consent.
    if (page.includes('name="prompt" value="login"')) form = new URLSearchParams({ prompt: 'login', login, password: 'any' });
    else if (page.includes('name="prompt" value="consent"')) form = new URLSearchParams({ prompt: 'consent' });
    else throw new Error('sign-in page not understood');
  }
  throw new Error(`sign-in as ${login} did not finish (unknown login?)`);
}
