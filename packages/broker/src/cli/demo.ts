import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { EvidenceProvider } from '@mandate/sdk';
import { Option, type Command } from 'commander';
import { ioOf, type Io } from './cli-output.ts';
import { DEMO_POLICY, startDemoStage, type DemoStage } from './demo-stage.ts';
import { describeError, expect, mandateSteps, readResult, registerStep, sayTo, type DemoState, type Step } from './demo-steps.ts';

export type DemoPolicy = 'basic' | 'rich';

export interface DemoOptions {
  /** `basic`: a CI identity and the agent's own code digest. `rich`: sigstore, k8s-sa-token, spiffe-jwt-svid, code-digest (and tpm-quote with swtpm). */
  policy: DemoPolicy;
  /** Rich only: use swtpm when it is installed (default true). */
  tpm: boolean;
}

/** What a demo variant adds to the shared loop: the agent's policy and evidence, header lines, and its attestation steps. */
export interface DemoPlan {
  policy: string;
  evidence: EvidenceProvider;
  lines: string[];
  attestSteps(io: Io, s: DemoState): Step[];
}

/** `mandate demo`: the whole loop on this machine, printed step by step; exit 1 names the step that misbehaved. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run the whole loop locally (broker, workload identity sources, resource server) and check every step')
    .addOption(new Option('--policy <policy>', 'attestation policy of the demo agent: basic (CI identity + code digest) or rich (Sigstore, Kubernetes, SPIFFE, code digest; TPM with swtpm)').choices(['basic', 'rich']).default('basic'))
    .option('--no-tpm', 'rich: leave tpm-quote out even when swtpm is installed')
    .action(async (options: { policy: DemoPolicy; tpm: boolean }, command: Command) => {
      process.exitCode = await runDemo(ioOf(command), options);
    });
}

/**
 * Starts the stage, runs every step, and always stops what it started.
 *
 * @example
 * process.exitCode = await runDemo({ out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }, { policy: 'rich', tpm: true });
 */
export async function runDemo(io: Io, options: DemoOptions = { policy: 'basic', tpm: true }): Promise<number> {
  let stage: DemoStage;
  let plan: (stage: DemoStage) => DemoPlan = basicPlan;
  try {
    if (options.policy === 'rich') {
      // Loaded only here: the rich demo's local trust sources are not part of the broker's command start-up.
      const { startRichTrust, richPlan } = await import('./demo-rich.ts');
      stage = await startDemoStage(async (dir) => {
        const trust = await startRichTrust(dir, { tpm: options.tpm });
        plan = (started) => richPlan(started, trust);
        return trust;
      });
    } else stage = await startDemoStage();
  } catch (error) {
    io.err(`demo FAILED while starting: ${describeError(error)}\n`);
    return 1;
  }
  // Ctrl-C still stops the servers and deletes the directory.
  const interrupt = () => void stage.close().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  try {
    return await runSteps(stage, plan(stage), io);
  } finally {
    process.off('SIGINT', interrupt);
    await stage.close();
  }
}

async function runSteps(stage: DemoStage, plan: DemoPlan, io: Io): Promise<number> {
  io.out('Mandate demo: the whole loop on loopback, with a temporary data directory.\n');
  io.out(`  broker           ${stage.brokerUrl}  (the real server; store in ${stage.dir})\n`);
  for (const line of plan.lines) io.out(`  ${line}\n`);
  io.out(`  resource server  ${stage.resource.url}  a sample API using the SDK verifier with introspection\n`);
  const s = {} as DemoState;
  const steps = [registerStep(stage, io, s, plan), ...plan.attestSteps(io, s), ...mandateSteps(stage, io, s)];
  for (const [index, step] of steps.entries()) {
    io.out(`\n${index + 1}. ${step.title}\n`);
    try {
      await step.run();
    } catch (error) {
      io.err(`\ndemo FAILED at step ${index + 1} (${step.title}): ${describeError(error)}\n`);
      return 1;
    }
  }
  io.out('\ndemo passed: every step behaved as expected.\n');
  return 0;
}

/** `--policy basic`: a CI identity bound to the challenge, plus the digest of this file as the agent's own claim. */
function basicPlan(stage: DemoStage): DemoPlan {
  const codeDigest = `sha256:${createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex')}`;
  const evidence: EvidenceProvider = async ({ audience }) => [
    { attestor: 'oidc-token', evidence: await stage.ci.sign({ aud: audience }) },
    { attestor: 'code-digest', evidence: { digest: codeDigest } },
  ];
  const lines = [`CI identity      ${stage.ci.issuer}  a local OIDC issuer standing in for GitHub Actions (the broker's test issuer, keys made now)`];
  return { policy: DEMO_POLICY, evidence, lines, attestSteps: (io, s) => [basicAttestStep(io, s)] };
}

function basicAttestStep(io: Io, s: DemoState): Step {
  const say = sayTo(io);
  return {
    title: 'The agent attests (SDK: /challenge, then /attest with a DPoP proof)',
    async run() {
      s.attestation = await s.agent.attest();
      const { attestors, jkt } = readResult(s.attestation);
      expect(attestors['oidc-token']?.status === 'affirming', `oidc-token is ${attestors['oidc-token']?.status ?? 'missing'}, expected affirming`);
      expect(attestors['code-digest']?.status === 'warning', `code-digest is ${attestors['code-digest']?.status ?? 'missing'}, expected warning`);
      expect(jkt === s.jkt, 'the result is not bound to the agent\'s DPoP key');
      const ci = attestors['oidc-token'].claims;
      say('oidc-token', `affirming  ${String(ci.repository)} (repository_id ${String(ci.repository_id)}, ${String(ci.runner_environment)}); token audience bound to the nonce and DPoP key`);
      say('code-digest', `warning    ${String(attestors['code-digest'].claims.digest).slice(0, 23)}… (the agent's own claim, not a measurement)`);
      say('verdict', `${s.attestation.verdict}, fresh for ${s.attestation.expiresIn} s, cnf.jkt ${s.jkt}`);
    },
  };
}
