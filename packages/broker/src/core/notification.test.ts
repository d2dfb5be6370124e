import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeNotification, errorClassOf, nextAttemptAt } from './notification.ts';

const schedule = { maxAttempts: 6, initialBackoff: 120_000, maxBackoff: 3_600_000 };

test('retry schedule: 2, 4, 8, 16, 32 minutes at the middle of the jitter, about an hour in all, then none', () => {
  const delays = [1, 2, 3, 4, 5].map((attempt) => nextAttemptAt(schedule, attempt, 0, 0.5)! / 60_000);
  assert.deepEqual(delays, [2, 4, 8, 16, 32]);
  assert.equal(nextAttemptAt(schedule, 6, 0, 0.5), null);
});

test('jitter stays within ±20 % and the cap holds', () => {
  assert.equal(nextAttemptAt(schedule, 1, 1000, 0), 1000 + 96_000);
  assert.equal(nextAttemptAt(schedule, 1, 1000, 0.999_999), 1000 + 144_000);
  const capped = { ...schedule, maxAttempts: 20, maxBackoff: 600_000 };
  assert.equal(nextAttemptAt(capped, 15, 0, 0.5), 600_000);
});

test('error classes: 2xx is none, other statuses by code, transport failures by kind', () => {
  assert.equal(errorClassOf({ status: 204 }), null);
  assert.equal(errorClassOf({ status: 302 }), 'http_302');
  assert.equal(errorClassOf({ status: 503 }), 'http_503');
  assert.equal(errorClassOf({ error: Object.assign(new Error('x'), { name: 'TimeoutError' }) }), 'timeout');
  assert.equal(errorClassOf({ error: new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }) }), 'connection');
  assert.equal(errorClassOf({ error: new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }) }), 'dns');
  assert.equal(errorClassOf({ error: new TypeError('fetch failed', { cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } }) }), 'network');
  assert.equal(errorClassOf({ error: new TypeError('fetch failed', { cause: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } }) }), 'tls');
});

test('each kind reads as one sentence naming its ids; unknown kinds fall back to the kind', () => {
  assert.equal(describeNotification('mandate.requested', { mandate_id: 'mdt_1', agent_id: 'agt_1' }), 'Agent agt_1 asks for a mandate (mdt_1): approve or deny it.');
  assert.match(describeNotification('review.due', { mandate_id: 'mdt_1', agent_id: 'agt_1' }), /due for review/);
  assert.match(describeNotification('mandate.suspended', { mandate_id: 'mdt_1', agent_id: 'agt_1', reason: 'review_overdue' }), /suspended \(review_overdue\)/);
  assert.match(describeNotification('attestation.contraindicated', { agent_id: 'agt_1' }), /contraindicated/);
  assert.equal(describeNotification('something.else', {}), 'something.else');
});
