import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

/** `mandate demo …` through the real binary, in a clean environment for the broker's own settings. */
async function runDemo(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const bin = new URL('../bin/mandate.js', import.meta.url).pathname;
  // The demo must not pick up a developer's MANDATE_*.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MANDATE_')));
  const child = spawn(process.execPath, [bin, 'demo', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, out, err };
}

/** Exit 0, nothing on stderr, every step passed, and the temporary directory is gone. */
function assertPassed({ code, out, err }: { code: number | null; out: string; err: string }, steps: number): void {
  assert.equal(code, 0, `stdout:\n${out}\nstderr:\n${err}`);
  assert.equal(err, '', 'nothing on stderr (broker logs are silenced)');
  assert.equal(out.match(/^\d+\. /gm)?.length, steps, `${steps} numbered steps`);
  assert.match(out, /^demo passed: every step behaved as expected\.$/m);
  const dir = /store in (\S+)\)/.exec(out)?.[1];
  assert.ok(dir, 'the output names the temporary directory');
  assert.equal(existsSync(dir), false, 'the temporary directory is deleted');
}

/** The mandate loop after the attestation, the same for every policy. */
function assertLoop(out: string): void {
  assert.match(out, /^ {5}delegation\.method +admin_token$/m);
  assert.match(out, /^ {3}accepted +200: agt_\S+ acting for usr_\S+, "Triage the open issues of acme\/agent"$/m);
  assert.match(out, /^ {3}refused +401 invalid_token: the access token is no longer active$/m);
  assert.match(out, /^ {3}introspection +active: false/m);
  assert.match(out, /^ {3}refused +400 invalid_request, mandate_error mandate_revoked$/m);
  assert.match(out, /^ {3}\S+Z +mandate\.revoked +usr_/m);
  assert.match(out, /^ {3}verified +every event links/m);
}

/** The refused hot-patched build: every attestor verified its evidence, the equality failed, no mandate exists. */
function assertRefusal(out: string): void {
  assert.match(out, /^\d+\. A hot-patched build attests with the release's provenance: refused by the policy's equality, before any mandate is asked$/m);
  assert.match(out, /^ {3}refused +400 invalid_request: the evidence does not satisfy the attestation policy$/m);
  assert.match(out, /^ {3}attestors +sigstore affirming, k8s-sa-token affirming, spiffe-jwt-svid affirming, (tpm-quote affirming, )?code-digest warning$/m);
  assert.match(out, /^ {3}failure +sigstore\.digest == code-digest\.digest {2}ERR_POLICY_EQUALITY$/m);
  assert.match(out, /^ {3}mandates +none: /m);
  assert.ok(out.indexOf('ERR_POLICY_EQUALITY') < out.indexOf('asks Alice for a mandate'), 'the refusal comes before any mandate is asked');
}

const swtpmInstalled = ['swtpm', 'swtpm_setup', 'tpm2_quote'].every((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined);

test('mandate demo runs the loop end to end and exits 0', { timeout: 60_000 }, async () => {
  const run = await runDemo();
  assertPassed(run, 11);
  assert.match(run.out, /^ {3}code-digest +warning /m);
  assertLoop(run.out);
});

test('mandate demo --policy rich: sigstore, k8s-sa-token, spiffe-jwt-svid, code-digest (and tpm-quote with swtpm); a hot patch is refused by ERR_POLICY_EQUALITY', { timeout: 60_000 }, async () => {
  const run = await runDemo('--policy', 'rich');
  assertPassed(run, swtpmInstalled ? 13 : 12);
  const { out } = run;
  assertRefusal(out);
  assert.match(out, /^ {3}sigstore +affirming +sha256:[0-9a-f]{16}… signed by https:\/\/github\.com\/acme\/agent\/\.github\/workflows\/release\.yml@refs\/heads\/main/m);
  assert.match(out, /^ {3}k8s-sa-token +affirming +agents\/planner, pod \S+; audience bound/m);
  assert.match(out, /^ {3}spiffe-jwt-svid +affirming +spiffe:\/\/prod\.acme\.internal\/ns\/agents\/sa\/planner; audience bound/m);
  if (swtpmInstalled) {
    assert.match(out, /^ {2}TPM +swtpm:host=127\.0\.0\.1,port=\d+ +swtpm/m);
    assert.match(out, /^ {3}tpm-quote +AK 000b[0-9a-f]+… registered/m);
    assert.match(out, /^ {3}failure +sigstore\.digest == tpm-quote\.digest {2}ERR_POLICY_EQUALITY$/m);
    assert.match(out, /^ {3}tpm-quote +affirming +sha256:[0-9a-f]{16}… measured in PCR 10/m);
    assert.match(out, /^ {3}code-digest +affirming +sha256:[0-9a-f]{16}… \(the agent's claim, affirmed/m);
    assert.match(out, /^ {3}verdict +affirming, /m);
    assert.match(out, /^ {5}attestation\.attestors\.tpm-quote\.status +affirming$/m);
  } else {
    assert.match(out, /^ {2}TPM +tpm-quote not used: swtpm/m);
    assert.match(out, /^ {3}verdict +warning, /m);
  }
  const [released] = /(?<=^ {3}sigstore +affirming +)sha256:[0-9a-f]{16}/m.exec(out) ?? [];
  assert.match(out, new RegExp(`^ {3}provenance +${released}… triage-bot-1\\.4\\.2\\.js`, 'm'), 'the refused build named the released digest as its provenance');
  assert.doesNotMatch(out, new RegExp(`^ {3}running +${released}`, 'm'), 'the refused build runs another digest');
  assertLoop(out);
});

test('mandate demo --policy rich --no-tpm: the same story without a measurement (code-digest stays warning)', { timeout: 60_000 }, async () => {
  const run = await runDemo('--policy', 'rich', '--no-tpm');
  assertPassed(run, 12);
  const { out } = run;
  assertRefusal(out);
  assert.match(out, /^ {2}TPM +tpm-quote not used: left out \(--no-tpm\)/m);
  assert.doesNotMatch(out, /^ {3}tpm-quote /m);
  assert.match(out, /^ {3}code-digest +warning +sha256:[0-9a-f]{16}… \(the agent's own claim: equal to the signed subject/m);
  assert.match(out, /^ {3}equal +sigstore\.digest == code-digest\.digest$/m);
  assert.match(out, /^ {3}verdict +warning, /m);
  assertLoop(out);
});
