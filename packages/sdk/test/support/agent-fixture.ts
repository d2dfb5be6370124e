// A broker stand-in, an agent registered at it, a fake clock, and an evidence provider.
import { exportJWK, SignJWT } from 'jose';
import type { Clock, EvidenceBinding, EvidenceItem } from '../../src/index.ts';
import { startBrokerStandIn, type StandInOptions } from './broker-stand-in.ts';
import { makeKey } from './keys.ts';

export const RESOURCE = 'https://api.example.com';

export function fakeClock(start = Date.now()) {
  let t = start;
  const sleeps: number[] = [];
  const clock: Clock = {
    now: () => t,
    async sleep(ms, signal) {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      t += ms;
    },
  };
  return { clock, sleeps, advance: (ms: number) => void (t += ms), now: () => t };
}

export async function agentFixture(options: Partial<Omit<StandInOptions, 'now' | 'oidcKey'>> & { clientAlg?: 'ES256' | 'EdDSA' } = {}) {
  const time = fakeClock();
  const oidcKey = await makeKey('ES256');
  const broker = await startBrokerStandIn({ audience: RESOURCE, ...options, now: time.now, oidcKey });
  const agentKey = await makeKey(options.clientAlg ?? 'ES256');
  broker.registerAgent('agt_test', agentKey.publicJwk);
  const bindings: EvidenceBinding[] = [];
  const evidence = async (binding: EvidenceBinding): Promise<EvidenceItem[]> => {
    bindings.push(binding);
    const oidc = await new SignJWT({ repository: 'acme/agent' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer('https://token.actions.githubusercontent.com')
      .setAudience(binding.audience)
      .setIssuedAt(Math.floor(time.now() / 1000))
      .setExpirationTime(Math.floor(time.now() / 1000) + 300)
      .sign(oidcKey.privateKey);
    return [
      { attestor: 'oidc-token', evidence: oidc },
      { attestor: 'code-digest', evidence: { digest: 'sha256:' + '0'.repeat(64) } },
    ];
  };
  const privateJwk = await exportJWK(agentKey.privateKey);
  return { time, broker, agentKey, privateJwk, evidence, bindings };
}
