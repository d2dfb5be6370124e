import type { Config } from '../config/load.ts';
import type { ConsoleServices } from '../console/services.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { HeldIds } from '../proof/single-use.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import type { MetricsExposition } from '../ports/metrics.ts';
import type { ServingState } from './ops/serving.ts';
import type { ClientAuthParams } from '../proof/client-assertion.ts';
import type { DpopRequest, VerifiedDpop } from '../proof/dpop.ts';
import type { DpopNonces } from '../proof/nonce.ts';
import type { Agent } from '../core/model.ts';
import type { AdminTokenService } from '../services/admin-tokens.ts';
import type { createAskService } from '../services/ask.ts';
import type { createAttestationService } from '../services/attestation.ts';
import type { createAutonomousService } from '../services/autonomous.ts';
import type { ChallengeService } from '../services/challenge.ts';
import type { createCollectService } from '../services/collect.ts';
import type { DecisionService } from '../services/decide.ts';
import type { DirectoryService } from '../services/directory.ts';
import type { FindingsService } from '../services/findings.ts';
import type { LifecycleService } from '../services/lifecycle.ts';
import type { createIntrospectionService } from '../services/introspect.ts';
import type { AttestationResultVerifier } from '../services/loop-deps.ts';
import type { createMintService } from '../services/mint.ts';
import type { KeyEnrolmentService } from '../services/key-enrolment.ts';
import type { RevocationService } from '../services/revocation.ts';
import type { Notifier } from '../services/notifications.ts';
import type { ReviewService } from '../services/reviews.ts';

/** The core loop as the OAuth endpoints use it. */
export interface LoopServices {
  authenticateClient(params: ClientAuthParams, held?: HeldIds): Promise<Agent>;
  verifyDpop(request: DpopRequest): Promise<VerifiedDpop>;
  nonces: DpopNonces;
  challenges: ChallengeService;
  attest: ReturnType<typeof createAttestationService>;
  verifyAttestation: AttestationResultVerifier;
  ask: ReturnType<typeof createAskService>;
  decisions: DecisionService;
  collect: ReturnType<typeof createCollectService>;
  mint: ReturnType<typeof createMintService>;
  mintAutonomous: ReturnType<typeof createAutonomousService>;
  introspect: ReturnType<typeof createIntrospectionService>;
  revocation: RevocationService;
  keyEnrolment: KeyEnrolmentService;
}

/** What the HTTP layer is given by the composition root. */
export interface HttpDeps {
  /** Console sign-in, passkeys, approvals (src/console, docs/console.md). */
  console: ConsoleServices;
  config: Config;
  store: Store;
  keys: KeyService;
  audit: AuditLog;
  directory: DirectoryService;
  adminTokens: AdminTokenService;
  /** Scanner findings (services/findings.ts). */
  findings: FindingsService;
  /** Orphan / stale / review-overdue checks (services/lifecycle.ts). */
  lifecycle: LifecycleService;
  loop: LoopServices;
  /** Notifications to humans: inbox, live console pages, webhooks. */
  notifications: Notifier;
  /** Access reviews of active mandates. */
  reviews: ReviewService;
  clock: Clock;
  random: Random;
  /** Counters and histograms (docs/operations.md), rendered at GET /metrics. */
  metrics: MetricsExposition;
  /** In-flight requests and draining, for /readyz and graceful shutdown. */
  serving: ServingState;
}
