import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VerifiedRequest } from '../resource/verifier.ts';
import { createSessionBinding } from './session-binding.ts';

const caller = (agentId: string) => ({ agentId, subject: 'usr_1', jkt: `jkt-${agentId}` }) as unknown as VerifiedRequest;

test('a session is admitted only for the caller that opened it; an id never opened is admitted for nobody', () => {
  const sessions = createSessionBinding(10);
  sessions.bind('s1', caller('agt_a'));
  assert.equal(sessions.admits('s1', caller('agt_a')), true);
  assert.equal(sessions.admits('s1', caller('agt_b')), false);
  assert.equal(sessions.admits('s2', caller('agt_a')), false);
});

test('an evicted binding is not handed to the next caller who presents its id', () => {
  const sessions = createSessionBinding(1);
  sessions.bind('victim', caller('agt_a'));
  sessions.bind('attacker', caller('agt_b'));
  assert.equal(sessions.admits('victim', caller('agt_b')), false);
  assert.equal(sessions.admits('victim', caller('agt_a')), false, 'forgotten: the victim reconnects');
});
