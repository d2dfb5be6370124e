import { createHmac, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import { ConfigError } from '../config/load.ts';
import { MandateError } from '../core/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

export interface ConsoleOidcDeps {
  store: Store;
  clock: Clock;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** `console.oidc.trustUnverifiedEmail`: accept an e-mail without `email_verified: true` (default false). */
  trustUnverifiedEmail?: boolean;
  /** The console origin; the redirect URI is `<origin>/console/oidc/callback`. */
  origin: string;
  /** HMAC key for the state cookie (shared through the store). */
  key: Buffer;
}

/** What the browser carries between the redirect and the callback (in a signed, HttpOnly cookie). */
interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  exp: number;
}

const PENDING_TTL_MS = 10 * 60_000;

type Claims = { sub: string; email?: unknown; email_verified?: unknown };

/**
 * Sign-in through the organisation's OpenID Provider (authorization code + PKCE, openid-client).
 * The IdP's verified e-mail maps to an active human on first use; the (issuer, sub) pair is then
 * linked, so a later e-mail change at the IdP does not move the account. An OIDC session never
 * approves on its own: each approval still asks for a passkey assertion (PROTOCOL §4).
 */
export function createConsoleOidc(deps: ConsoleOidcDeps) {
  const insecure = plainHttp(deps.issuer);
  let discovered: Promise<oidc.Configuration> | null = null;
  const redirectUri = `${deps.origin}/console/oidc/callback`;
  const configuration = () => {
    discovered ??= oidc
      .discovery(new URL(deps.issuer), deps.clientId, undefined, oidc.ClientSecretBasic(deps.clientSecret), {
        // Loopback IdPs in tests and labs speak http (plainHttp admits no other); a production issuer is https.
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        discovered = null;
        throw error;
      });
    return discovered;
  };
  const sign = (body: string) => createHmac('sha256', deps.key).update(`mandate/oidc-state/v1\0${body}`).digest('base64url');

  return {
    /** The IdP URL to send the browser to, and the cookie value that must come back with it. */
    async start(next: string): Promise<{ url: string; cookie: string }> {
      const config = await configuration();
      const pending: PendingLogin = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), next, exp: deps.clock.now() + PENDING_TTL_MS };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri, scope: 'openid email', state: pending.state, nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier), code_challenge_method: 'S256',
      });
      const body = Buffer.from(JSON.stringify(pending)).toString('base64url');
      return { url: url.href, cookie: `${body}.${sign(body)}` };
    },

    /** Completes the code flow; returns the human id and where to go next. */
    async finish(callbackUrl: string, cookie: string | undefined): Promise<{ humanId: string; next: string }> {
      const pending = readPending(cookie, sign, deps.clock.now());
      let claims: Claims | undefined;
      try {
        const config = await configuration();
        const tokens = await oidc.authorizationCodeGrant(config, new URL(callbackUrl), {
          pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
        });
        claims = tokens.claims();
        // OIDC Core §5.4: scope-requested claims may come only from UserInfo (the sub must match).
        if (claims && typeof claims.email !== 'string') claims = { ...claims, ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)) };
      } catch {
        throw new MandateError('ERR_OIDC_CALLBACK', 'the identity provider\'s answer did not verify');
      }
      if (!claims) throw new MandateError('ERR_OIDC_CALLBACK', 'the identity provider sent no ID token');
      return { humanId: await humanFor(deps, claims), next: pending.next };
    },
  };
}

export type ConsoleOidc = ReturnType<typeof createConsoleOidc>;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** True for an http loopback issuer; an http issuer elsewhere fails at start (tokens and codes would cross the network in clear). */
function plainHttp(issuer: string): boolean {
  const url = new URL(issuer);
  if (url.protocol !== 'http:') return false;
  if (!LOOPBACK.has(url.hostname)) throw new ConfigError([{ path: 'console.oidc.issuer', message: 'an http issuer must be on loopback (127.0.0.1, ::1, localhost); use https' }]);
  return true;
}

function readPending(cookie: string | undefined, sign: (body: string) => string, now: number): PendingLogin {
  const [body = '', mac = ''] = (cookie ?? '').split('.');
  const expected = Buffer.from(sign(body));
  if (!body || expected.length !== mac.length || !timingSafeEqual(expected, Buffer.from(mac)))
    throw new MandateError('ERR_OIDC_CALLBACK', 'the sign-in was not started here (state cookie missing or altered)');
  const pending = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PendingLogin;
  if (pending.exp <= now) throw new MandateError('ERR_OIDC_CALLBACK', 'the sign-in took too long: start again');
  return pending;
}

/** By the (issuer, sub) link, else by verified e-mail (then linked; unverified only with `trustUnverifiedEmail`); the human must be active. */
async function humanFor(deps: ConsoleOidcDeps, claims: Claims): Promise<string> {
  const linked = await deps.store.console.oidcLinks.find(deps.issuer, claims.sub);
  if (linked) {
    if ((await deps.store.humans.get(linked))?.status !== 'active') throw new MandateError('ERR_OIDC_NO_HUMAN', 'the linked human is disabled');
    return linked;
  }
  // OIDC Core §5.1: without email_verified true the IdP vouches only that someone typed the address.
  if (typeof claims.email === 'string' && claims.email_verified !== true && !deps.trustUnverifiedEmail)
    throw new MandateError('ERR_OIDC_EMAIL_UNVERIFIED', 'the identity provider did not mark this e-mail address as verified');
  const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : null;
  const human = email === null ? undefined : (await deps.store.humans.list()).find((h) => h.status === 'active' && h.email?.toLowerCase() === email);
  if (!human) throw new MandateError('ERR_OIDC_NO_HUMAN', 'no active human has the e-mail address the identity provider gave');
  return deps.store.console.oidcLinks.link(deps.issuer, claims.sub, human.id, deps.clock.now());
}
