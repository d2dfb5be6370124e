import type { JWTPayload } from 'jose';
import { z } from 'zod';
import type { ClaimValue } from '../../ports/attestor.ts';

/** Who a service-account token speaks for, as the API server writes it under `kubernetes.io`. */
export interface ServiceAccountIdentity {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  /** Epoch seconds: the nominal end of a token whose exp the API server extended (kube-api-access). */
  warnafter?: number;
}

const name = z.string().min(1).max(253);
const uid = z.string().min(1).max(128);
const object = z.object({ name, uid });

// Not strict: the API server adds members over releases (node since 1.30, warnafter for extended tokens).
const kubernetesBlock = z.object({
  namespace: z.string().min(1).max(63),
  serviceaccount: object,
  pod: object.optional(),
  node: object.optional(),
  warnafter: z.number().int().positive().optional(),
});

/** The username the API server gives a service account (and writes into `sub`). */
export const serviceAccountUsername = (identity: ServiceAccountIdentity) =>
  `system:serviceaccount:${identity.namespace}:${identity.serviceaccount.name}`;

/**
 * The `kubernetes.io` block of a projected token, or null when the token is not a service-account
 * token or its `sub` names another account than the block does.
 *
 * @example
 * const identity = readServiceAccount(claims); // { namespace: 'agents', serviceaccount: { name: 'planner', uid }, pod, node }
 */
export function readServiceAccount(claims: JWTPayload): ServiceAccountIdentity | null {
  const parsed = kubernetesBlock.safeParse(claims['kubernetes.io']);
  if (!parsed.success) return null;
  const identity: ServiceAccountIdentity = parsed.data;
  return claims.sub === serviceAccountUsername(identity) ? identity : null;
}

/**
 * The claims a policy can pin: `iss`, `namespace`, `serviceaccount` (+ `serviceaccount_uid`), and
 * `pod`, `pod_uid`, `node` when the token is bound to a pod. Uids survive no re-creation, names do.
 *
 * @example
 * emitClaims('https://kubernetes.default.svc.cluster.local', identity); // { iss, namespace: 'agents', serviceaccount: 'planner', … }
 */
export function emitClaims(iss: string, identity: ServiceAccountIdentity): Record<string, ClaimValue> {
  const claims: Record<string, ClaimValue> = {
    iss,
    namespace: identity.namespace,
    serviceaccount: identity.serviceaccount.name,
    serviceaccount_uid: identity.serviceaccount.uid,
  };
  if (identity.pod) Object.assign(claims, { pod: identity.pod.name, pod_uid: identity.pod.uid });
  if (identity.node) claims.node = identity.node.name;
  return claims;
}
