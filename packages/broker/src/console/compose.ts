import { ConfigError, type Config } from '../config/load.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import { createConsoleAuth } from '../services/console-auth.ts';
import { createConsoleOidc } from '../services/console-oidc.ts';
import type { DecisionService } from '../services/decide.ts';
import { createPasskeyApproval } from '../services/passkey-approval.ts';
import { createPasskeyService } from '../services/passkeys.ts';
import { createResumeService } from '../services/resume.ts';
import { createWebauthnNonces } from '../services/webauthn-challenge.ts';
import { consoleOrigin } from './config.ts';
import type { ConsoleServices } from './services.ts';
import type { Notifier } from '../services/notifications.ts';

export interface ConsoleServiceDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  config: Config;
  decisions: DecisionService;
  notifier: Pick<Notifier, 'notify'>;
  /** Where `console.oidc.clientSecretEnv` is read. */
  env: Record<string, string | undefined>;
}

/** Builds the console's services (called by the composition root, app.ts). */
export async function createConsoleServices(deps: ConsoleServiceDeps): Promise<ConsoleServices> {
  const { store, audit, clock, random, config, decisions } = deps;
  const { origin, rpId } = consoleOrigin(config);
  const sharedKey = async (name: string) => Buffer.from(await store.secrets.getOrCreate(name, random.base64url(32), clock.now()), 'base64url');
  const nonces = createWebauthnNonces({ key: await sharedKey('console-webauthn'), clock, random, replay: store.replay, ttlMs: config.console.challengeTtl });
  const auth = createConsoleAuth({ store, audit, clock, random, origin, sessionTtl: config.console.sessionTtl, inviteTtl: config.console.inviteTtl, notifier: deps.notifier });
  const passkeys = createPasskeyService({ store, audit, clock, auth, nonces, origin, rpId, rpName: config.console.rpName });
  const approval = createPasskeyApproval({ decisions, passkeys, nonces, markStepUp: auth.markStepUp, origin, rpId });
  const resume = createResumeService({ store, audit, clock, decisions, passkeys, nonces, revokeAfter: config.mandates.suspendedRevokeAfter, origin, rpId });
  const oidcConfig = config.console.oidc;
  let oidc = null;
  if (oidcConfig) {
    const clientSecret = deps.env[oidcConfig.clientSecretEnv];
    // Bad config fails at start, with the dotted path of the key to fix.
    if (!clientSecret) throw new ConfigError([{ path: 'console.oidc.clientSecretEnv', message: `environment variable ${oidcConfig.clientSecretEnv} is not set` }]);
    oidc = createConsoleOidc({ store, clock, issuer: oidcConfig.issuer, clientId: oidcConfig.clientId, clientSecret, trustUnverifiedEmail: oidcConfig.trustUnverifiedEmail, origin, key: await sharedKey('console-oidc-state') });
  }
  return { auth, passkeys, approval, resume, oidc, origin, rpId };
}
