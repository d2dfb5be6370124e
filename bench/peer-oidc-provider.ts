/**
 * The peer for the HTTP mint cases: panva `oidc-provider` (a devDependency) in its own process,
 * started by bench/oidc-provider-cc.ts as
 *   taskset -c 0 node --import tsx bench/peer-oidc-provider.ts <port> <dpop: on|off> <client public JWK>
 * with NODE_ENV=production, on 127.0.0.1. Configured per BENCH.md: the `client_credentials` grant,
 * one client authenticating with `private_key_jwt` (ES256), JWT access tokens signed ES256 for one
 * resource server (the default resource), and DPoP enabled or disabled. Prints `peer listening`
 * when ready; stopped by its PID (SIGTERM, default handler).
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

// Same values as in bench/oidc-provider-cc.ts (not imported: this file starts a server on import).
const PEER_AUDIENCE = 'https://api.example.com';
const PEER_CLIENT_ID = 'bench-client';

const [portArg, dpopArg, clientJwkArg] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || (dpopArg !== 'on' && dpopArg !== 'off') || !clientJwkArg) {
  process.stderr.write('usage: peer-oidc-provider.ts <port> <on|off> <client public JWK JSON>\n');
  process.exit(2);
}
const clientJwk = JSON.parse(clientJwkArg) as JWK;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'peer-es256', alg: 'ES256', use: 'sig' };
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: PEER_CLIENT_ID,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    // the provider holds only an ES256 key; the client metadata default (RS256) would be refused
    id_token_signed_response_alg: 'ES256',
    jwks: { keys: [clientJwk] },
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'read',
  }],
  clientAuthMethods: ['private_key_jwt'],
  jwks: { keys: [signingJwk] },
  scopes: ['read'],
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: dpopArg === 'on' },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => PEER_AUDIENCE,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        if (resource !== PEER_AUDIENCE) throw new errors.InvalidTarget();
        return { scope: 'read', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
});

provider.listen(port, '127.0.0.1', () => process.stdout.write(`peer listening on ${issuer} (dpop ${dpopArg}, pid ${process.pid})\n`));

// The first error of each kind goes to stderr: production mode hides most details from the response.
const seen = new Set<string>();
for (const event of ['grant.error', 'server_error']) {
  provider.on(event, (_ctx: unknown, err: Error & { error_detail?: string }) => {
    if (seen.has(event)) return;
    seen.add(event);
    process.stderr.write(`peer ${event}: ${err.message}${err.error_detail ? ` (${err.error_detail})` : ''}${err.cause ? ` cause: ${String(err.cause)}` : ''}\n`);
  });
}
