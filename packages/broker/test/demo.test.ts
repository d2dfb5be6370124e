import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

/** `mandate demo` through the real binary: the whole loop, every step checked, nothing left behind. */
test('mandate demo runs the loop end to end and exits 0', async () => {
  const bin = new URL('../bin/mandate.js', import.meta.url).pathname;
  // A clean environment for the broker's own settings: the demo must not pick up a developer's MANDATE_*.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MANDATE_')));
  const child = spawn(process.execPath, [bin, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

  assert.equal(code, 0, `stdout:\n${out}\nstderr:\n${err}`);
  assert.equal(err, '', 'nothing on stderr (broker logs are silenced)');
  assert.match(out, /^ {3}code-digest +warning /m);
  assert.match(out, /^ {5}delegation\.method +admin_token$/m);
  assert.match(out, /^ {3}accepted +200: agt_\S+ acting for usr_\S+, "Triage the open issues of acme\/agent"$/m);
  assert.match(out, /^ {3}refused +401 invalid_token: the access token is no longer active$/m);
  assert.match(out, /^ {3}introspection +active: false/m);
  assert.match(out, /^ {3}refused +400 invalid_request, mandate_error mandate_revoked$/m);
  assert.match(out, /^ {3}\S+Z +mandate\.revoked +usr_/m);
  assert.match(out, /^ {3}verified +every event links/m);
  assert.match(out, /^demo passed: every step behaved as expected\.$/m);
  assert.equal(out.match(/^\d+\. /gm)?.length, 11, 'eleven numbered steps');
  const dir = /store in (\S+)\)/.exec(out)?.[1];
  assert.ok(dir, 'the output names the temporary directory');
  assert.equal(existsSync(dir), false, 'the temporary directory is deleted');
});
