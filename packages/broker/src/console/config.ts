import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../core/duration.ts';

const duration = (fallback: string, description: string) =>
  z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 24h').default(fallback).transform(parseDuration).describe(description);

/** `console.*`: who may sign in where (PROTOCOL §1: origin and rpId are settings). */
export const consoleConfigSchema = z
  .strictObject({
    origin: z.url({ protocol: /^https?$/ }).optional().describe('Origin the console is served from, checked in every WebAuthn ceremony and POST (default http://localhost:<port>).'),
    rpId: z.string().regex(/^[a-z0-9.-]+$/, 'expected a host name (an IP address cannot be an rpId)').optional().describe('WebAuthn relying-party id (default: the origin\'s host name, localhost by default).'),
    rpName: z.string().min(1).max(64).default('Mandate').describe('Name authenticators show for this relying party.'),
    sessionTtl: duration('8h', 'How long a console session lasts after sign-in.'),
    inviteTtl: duration('72h', 'How long a one-time enrolment invite stays valid.'),
    challengeTtl: duration('5m', 'How long a WebAuthn challenge (sign-in, enrolment, approval) may be answered.'),
    oidc: z
      .strictObject({
        issuer: z.url({ protocol: /^https?$/ }).describe('The organisation\'s OpenID Provider (discovery at <issuer>/.well-known/openid-configuration).'),
        clientId: z.string().min(1).describe('Client id registered at the IdP; redirect URI <origin>/console/oidc/callback.'),
        clientSecretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]{0,63}$/, 'expected an environment variable name').describe('Environment variable holding the client secret (client_secret_basic); the secret never sits in the config file.'),
        trustUnverifiedEmail: z.boolean().default(false).describe('Map an e-mail the IdP does not mark email_verified: true to a human. Risky: whoever can set that address at the IdP signs in as the human; only for IdPs that verify every address themselves.'),
      })
      .optional()
      .describe('Optional sign-in through the IdP; the IdP\'s verified e-mail maps to a human. Approving still needs a passkey.'),
  })
  .prefault({})
  .describe('Web console: human sign-in with passkeys (WebAuthn) or OIDC.');

/** `mandates.*`: lifecycle settings (PROTOCOL §8). */
export const mandatesConfigSchema = z
  .strictObject({
    suspendedRevokeAfter: duration('7d', 'A mandate still suspended this long after its suspension is revoked (a periodic sweep, audited).'),
  })
  .prefault({})
  .describe('Mandate lifecycle.');

export type ConsoleConfig = z.output<typeof consoleConfigSchema>;

/** The console origin and rpId as used: defaults follow the port (PROTOCOL §1). */
export function consoleOrigin(config: { console: ConsoleConfig; server: { port: number } }): { origin: string; rpId: string } {
  const origin = config.console.origin ?? `http://localhost:${config.server.port}`;
  return { origin, rpId: config.console.rpId ?? new URL(origin).hostname };
}
