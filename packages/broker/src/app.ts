import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAttestors } from './attestors/registry.ts';
import { createAuditLog } from './audit/audit-service.ts';
import { createCrossCheckpointer, startCrossCheckpoints } from './audit/cross-checkpoint.ts';
import { claimAuditChain } from './audit/chain-claim.ts';
import type { Config } from './config/load.ts';
import type { HttpDeps, LoopServices } from './http/deps.ts';
import { createHttpServer } from './http/server.ts';
import { createConsoleServices } from './console/compose.ts';
import { createServingState } from './http/ops/serving.ts';
import { instrumentChangeFeed, instrumentLoop, registerCacheGauges } from './observability/instrument.ts';
import { createMetrics } from './observability/metrics.ts';
import type { DestinationStream } from 'pino';
import { createKeyService } from './keys/key-service.ts';
import { syncKeysAcrossReplicas } from './keys/replica-sync.ts';
import { cacheHotReads, type HotReads } from './services/read-cache.ts';
import { protectAtRest } from './keys/at-rest-config.ts';
import type { Attestor } from './ports/attestor.ts';
import type { Clock } from './ports/clock.ts';
import type { Random } from './ports/random.ts';
import { createClientAuthenticator } from './proof/client-assertion.ts';
import { createDpopVerifier } from './proof/dpop.ts';
import { createDpopNonces } from './proof/nonce.ts';
import { createAdminTokenService } from './services/admin-tokens.ts';
import { createAskService } from './services/ask.ts';
import { createAttestationResultVerifier } from './services/attestation-result.ts';
import { createAttestationService } from './services/attestation.ts';
import { createAutonomousService } from './services/autonomous.ts';
import { createEnrolment } from './attestors/tpm-quote/index.ts';
import { createKeyEnrolmentService } from './services/key-enrolment.ts';
import { createChallengeService } from './services/challenge.ts';
import { createCollectService } from './services/collect.ts';
import { createDecisionService } from './services/decide.ts';
import { createDirectoryService } from './services/directory.ts';
import { createFindingsService } from './services/findings.ts';
import { startLifecycleJob } from './services/lifecycle-job.ts';
import { createLifecycleService } from './services/lifecycle.ts';
import { createIntrospectionService } from './services/introspect.ts';
import type { LoopDeps } from './services/loop-deps.ts';
import { createMintService } from './services/mint.ts';
import { createNotifications } from './notifications/index.ts';
import { createReviewService } from './services/reviews.ts';
import { registerEventsRoute } from './notifications/events-route.ts';
import { loadSession } from './console/session-cookie.ts';
import { createRevocationService } from './services/revocation.ts';
import { createSsfTransmitter } from './services/ssf-transmitter.ts';
import { nodeChainHashing } from './store/chain-hashing.ts';
import type { Store } from './ports/store.ts';
import { createStore } from './store/open-store.ts';
import { cryptoRandom, systemClock } from './system.ts';

/** The one composition root: the only module that knows every concrete class. */
export interface App extends Omit<HttpDeps, 'clock' | 'random'> {
  http: FastifyInstance;
  close(): Promise<void>;
}

export interface AppOverrides {
  clock?: Clock;
  random?: Random;
  /**
   * Test seam: wraps the store as opened: its audit sink and the one-transaction mint
   * (`CredentialRepository.commitIssue`), to fail or delay audit commits (PROTOCOL §9), or the
   * benchmark's null audit sink (bench/null-audit-server.ts).
   */
  store?: (store: Store) => Store;
  /** Test seam: wraps the enabled attestors (e.g. to report contraindicated evidence, which no v1 attestor does). */
  attestors?: (attestors: ReadonlyMap<string, Attestor>) => ReadonlyMap<string, Attestor>;
  /** Test seam: where the server's JSON log lines go (stdout by default). */
  logDestination?: DestinationStream;
  /** Where webhook secrets (`notifications.webhooks[].secretEnv`) are read; process.env by default. */
  env?: Record<string, string | undefined>;
  /** Test seam: the fetch webhook deliveries use. */
  fetch?: typeof fetch;
}

export { STORE_FILE } from './store/open-store.ts';
const CHALLENGE_TTL_MS = 120_000;
const CLIENT_ASSERTION_SKEW_SECONDS = 30;
const REPLAY_PURGE_INTERVAL_MS = 60_000;
const REPLAY_PURGE_GRACE_MS = 60_000;
const SUSPENSION_SWEEP_INTERVAL_MS = 10 * 60_000;

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? cryptoRandom;
  prepareDataDir(config.dataDir);
  // SQLite in the data directory, or PostgreSQL shared by replicas when `store.url` is set (docs/deployment.md).
  const store = overrides.store ? overrides.store(await createStore(config)) : await createStore(config);
  // docs/keys-at-rest.md: private signing keys and shared secrets sealed above the store port (SQLite and PostgreSQL alike).
  const resealed = await protectAtRest(store, config, overrides.env ?? process.env);
  if (resealed.keys + resealed.secrets > 0) process.stderr.write(`keys at rest: rewrote ${resealed.keys} signing keys and ${resealed.secrets} secrets to match keys.encryptionKeyEnv\n`);
  if (resealed.residue) process.stderr.write('keys at rest: another connection kept the store from dropping the old copies now; they go at the next checkpoint (docs/keys-at-rest.md)\n');
  // PROTOCOL §9: one live replica per audit chain; a second one with the same audit.chain stops here.
  const chainClaim = await claimAuditChain(store, config.audit.chain, (error) => process.stderr.write(`audit chain claim: ${error.message}\n`));
  // Replicas reload signing keys when any of them rotates (change feed: LISTEN/NOTIFY, polling as the bound).
  const { keys, subscription: keySync } = syncKeysAcrossReplicas(
    createKeyService({ store: store.keys, clock, activationDelay: config.keys.activationDelay, overlap: config.keys.overlap }),
    { feed: () => store.changes, clock, pollIntervalMs: config.store.pollInterval, onError: (error) => process.stderr.write(`key sync failed: ${error.message}\n`) },
  );
  await keys.ensureKey();
  // Operability (docs/operations.md): one metrics registry per app; revocations counted where published.
  const metrics = createMetrics();
  const serving = createServingState();
  const changes = instrumentChangeFeed(store.changes, metrics, () => clock.now());
  store.changes = changes;
  const propagation = changes.observeRemote((error) => process.stderr.write(`change feed subscription failed: ${error.message}\n`));
  // The token endpoint's agent and mandate reads are kept in memory while active, emptied by any
  // change on the feed (docs/deployment.md); the token's commit checks both again.
  const hot = await cacheHotReads(store, {
    clock, pollIntervalMs: config.store.pollInterval, onError: (error) => process.stderr.write(`read cache subscription failed: ${error.message}\n`),
  });
  const audit = createAuditLog({
    sink: store.audit, keys, clock, chain: config.audit.chain, issuer: config.issuer, checkpointFile: config.audit.checkpointFile,
    onCheckpointError: (error) => process.stderr.write(`audit checkpoint write failed: ${error.message}\n`),
    metrics,
  });
  // PROTOCOL §9: with one chain per replica, each pins the others' heads in its own chain (docs/audit.md).
  const crossCheckpoints = startCrossCheckpoints(
    createCrossCheckpointer({ sink: store.audit, audit, keys, clock, chain: config.audit.chain, issuer: config.issuer }),
    config.audit.crossCheckpointInterval, (error) => process.stderr.write(`audit cross-checkpoint failed: ${error.message}\n`),
  );
  const notifications = createNotifications({ store, clock, random, config, env: overrides.env ?? process.env, ...(overrides.fetch ? { fetch: overrides.fetch } : {}) });
  const loop = instrumentLoop(metrics, await createLoop(
    {
      store, audit, clock, random, keys, config, hashing: nodeChainHashing, verifyAttestation: createAttestationResultVerifier({ keys, issuer: config.issuer, clock }), notifier: notifications.notifier,
      forgetReads: hot.clear, forgetMandate: hot.forgetMandate,
    },
    overrides.attestors,
    hot,
  ));
  registerCacheGauges(metrics, loop, hot);
  const directory = createDirectoryService({ store, audit, clock, random, policies: config.attestation.policies, cascade: loop.revocation });
  const adminTokens = createAdminTokenService({ store, audit, clock, random });
  const findings = createFindingsService({ store, audit, clock, random, audiences: config.audiences, policies: config.attestation.policies });
  const lifecycle = createLifecycleService({ store, audit, clock, directory, settings: config.lifecycle, notifier: notifications.notifier });
  const reviews = createReviewService({ store, audit, clock, settings: config.reviews, notifier: notifications.notifier, decisions: loop.decisions, revocation: loop.revocation });
  const consoleServices = await createConsoleServices({ store, audit, clock, random, config, decisions: loop.decisions, notifier: notifications.notifier, env: overrides.env ?? process.env });
  const http = await createHttpServer({ console: consoleServices, metrics, serving, config, store, keys, audit, directory, adminTokens, findings, lifecycle, loop, notifications: notifications.notifier, reviews, clock, random }, { logDestination: overrides.logDestination });
  // GET /console/events: the signed-in human's live notifications (server-sent events).
  registerEventsRoute(http, notifications, async (request) => (await loadSession(consoleServices, request))?.human ?? null);
  // Single-use ids are only needed until they expire: purge them so the table stays small.
  // Entries stay a grace period past their expiry: an id held for a commit that runs late is still
  // found there (proof/single-use.ts), never purged under it.
  const purge = setInterval(() => void store.replay.purgeExpired(clock.now() - REPLAY_PURGE_GRACE_MS).catch(() => undefined), REPLAY_PURGE_INTERVAL_MS);
  purge.unref();
  // PROTOCOL §8: mandates left suspended past `mandates.suspendedRevokeAfter` are revoked (audited).
  const resumeSweep = setInterval(() => void consoleServices.resume.sweep('req_suspension_sweep').catch(() => undefined), SUSPENSION_SWEEP_INTERVAL_MS);
  resumeSweep.unref();
  // Access reviews: remind owners of due reviews, suspend overdue mandates; outbox rows a crash left are fanned out.
  const sweep = setInterval(() => void reviews.sweep()
    .catch((error: Error) => void process.stderr.write(`review sweep failed: ${error.message}\n`))
    .finally(() => notifications.notifier.dispatch().catch((error: Error) => void process.stderr.write(`notification dispatch failed: ${error.message}\n`))),
  config.reviews.sweepInterval);
  sweep.unref();
  const lifecycleJob = startLifecycleJob(lifecycle, config.lifecycle.interval, random, (error) =>
    process.stderr.write(`lifecycle check failed: ${error.message}\n`));
  // PROTOCOL §7: the OpenID SSF transmitter pushes revocations to subscribed resource servers (docs/revocation.md).
  const transmitter = createSsfTransmitter({ store, keys, config, clock, random }, { onError: (error) => process.stderr.write(`ssf transmitter failed: ${(error as Error).message}\n`) });
  if (config.revocation.push.enabled) await transmitter.start();
  return {
    console: consoleServices, metrics, serving, config, store, keys, audit, directory, adminTokens, findings, lifecycle, loop, http, notifications: notifications.notifier, reviews,
    async close() {
      serving.markDraining();
      await propagation?.close();
      await keySync?.close();
      await hot.subscription.close();
      clearInterval(purge);
      clearInterval(resumeSweep);
      clearInterval(sweep);
      notifications.close();
      lifecycleJob.stop();
      crossCheckpoints.stop();
      await transmitter.stop();
      await http.close();
      await chainClaim?.release();
      await store.close();
    },
  };
}

/** The core loop: proofs, attestation, asking, deciding, minting, introspection, revocation. */
async function createLoop(deps: LoopDeps, wrapAttestors: AppOverrides['attestors'] = (attestors) => attestors, hot: HotReads): Promise<LoopServices> {
  const { store, clock, random, config, keys, audit } = deps;
  const sharedKey = async (name: string) => Buffer.from(await store.secrets.getOrCreate(name, random.base64url(32), clock.now()), 'base64url');
  const nonces = createDpopNonces(await sharedKey('dpop-nonce'), clock, config.dpop.nonceLifetime / 1000);
  const challenges = createChallengeService({ key: await sharedKey('attest-challenge'), clock, random, replay: store.replay, ttlMs: CHALLENGE_TTL_MS });
  const decisions = createDecisionService(deps);
  const tpm = config.attestation.attestors['tpm-quote'];
  const revocation = createRevocationService(deps, decisions);
  const attest = createAttestationService({
    attestations: store.attestations, challenges, attestors: wrapAttestors(createAttestors(config.attestation.attestors, { replay: store.replay, clock, attestationKeys: { get: (agentId) => store.attestationKeys.listForAgent(agentId) } })),
    policies: config.attestation.policies, keys, audit, clock, random, issuer: config.issuer,
    // PROTOCOL §3: contraindicated evidence suspends the agent's mandates and its owners are notified.
    onContraindicated: async (record, requestId) => {
      await revocation.suspendAgentMandates(record.agentId, { actor: record.agentId, requestId });
      for (const owner of (await store.agents.get(record.agentId))?.owners ?? [])
        await deps.notifier.notify(owner, 'attestation.contraindicated', { agent_id: record.agentId, attestation_id: record.id });
    },
  });
  return {
    authenticateClient: createClientAuthenticator({
      agents: store.agents, committedAgents: hot.agents, replay: store.replay, clock, issuer: config.issuer, skewSeconds: CLIENT_ASSERTION_SKEW_SECONDS,
    }),
    verifyDpop: createDpopVerifier({ replay: store.replay, clock, nonces, requireNonce: config.dpop.requireNonce, iatWindowSeconds: config.dpop.iatWindow / 1000 }),
    nonces, challenges, attest, verifyAttestation: deps.verifyAttestation,
    ask: createAskService(deps), decisions, collect: createCollectService(deps), mint: createMintService(deps, { mandateByGrantHash: hot.mandateByGrantHash }),
    mintAutonomous: createAutonomousService(deps), introspect: createIntrospectionService(deps), revocation,
    keyEnrolment: createKeyEnrolmentService({
      enrolment: tpm?.ekCaFile === undefined ? null : createEnrolment(tpm, { repository: store.attestationKeys, clock }),
      repository: store.attestationKeys, key: await sharedKey('tpm-enrolment'), replay: store.replay, audit, clock,
    }),
  };
}

/** The data directory holds keys and the admin token: owner-only (0700, files 0600). */
function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}
