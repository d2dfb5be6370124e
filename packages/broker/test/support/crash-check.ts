/**
 * What a crash run checks in the store once the broker is stopped (read-only, through the store's
 * own adapter, so SQLite and PostgreSQL are read the same way):
 * - every token a client received has a committed `token.issued` audit row (PROTOCOL §9);
 * - every stored credential has one too (nothing exists outside the broker unaudited);
 * - no mandate has more credentials, `token.issued` rows or received tokens than its `maxUses` (§5),
 *   nor more `token.issued` rows than uses its counter gave out (each token took a use first).
 */
import type { Store } from '../../src/ports/store.ts';
import type { ReceivedToken } from './crash-agents.ts';

export interface MandateUse {
  mandateId: string;
  maxUses: number;
  /** Uses the counter gave out (`maxUses` − remaining). */
  taken: number;
  credentials: number;
  issuedEvents: number;
  received: number;
}

export interface LedgerCheck {
  /** Received tokens looked up by jti. */
  rowsChecked: number;
  /** Received tokens without a committed `token.issued` row: must be empty. */
  lost: ReceivedToken[];
  /** Stored credentials without a `token.issued` row: must be empty. */
  unauditedCredentials: string[];
  mandates: MandateUse[];
  /** Mandates past `maxUses` by any count: must be empty. */
  overdrawn: MandateUse[];
  /** `token.issued` rows whose token no client received (cut responses, the safe side). */
  issuedNotReceived: number;
  /** Uses taken from a counter for a token a kill then stopped before its audit commit (the safe side). */
  burntUses: number;
}

export async function checkLedger(store: Store, ledger: readonly ReceivedToken[], mandateAgents: readonly string[]): Promise<LedgerCheck> {
  const lost: ReceivedToken[] = [];
  for (const token of ledger) {
    const events = await store.audit.byJti(token.jti);
    if (!events.some((e) => e.type === 'token.issued')) lost.push(token);
  }
  const received = new Map<string, number>();
  for (const token of ledger) if (token.mandateId) received.set(token.mandateId, (received.get(token.mandateId) ?? 0) + 1);
  const unauditedCredentials: string[] = [];
  const mandates: MandateUse[] = [];
  let issuedTotal = 0;
  for (const agentId of mandateAgents) {
    for (const mandate of await store.mandates.list({ agentId }, 100_000)) {
      const credentials = await store.credentials.listByMandate(mandate.id);
      const issued = (await store.audit.byMandate(mandate.id, 100_000)).filter((e) => e.type === 'token.issued');
      const issuedJtis = new Set(issued.map((e) => e.jti));
      for (const credential of credentials) if (!issuedJtis.has(credential.jti)) unauditedCredentials.push(credential.jti);
      issuedTotal += issued.length;
      const maxUses = mandate.task.constraints.maxUses ?? Infinity;
      // No maxUses, no counter: nothing to compare the issued tokens with.
      const taken = maxUses === Infinity ? issued.length : maxUses - ((await store.counters.remaining(mandate.id)) ?? maxUses);
      mandates.push({ mandateId: mandate.id, maxUses, taken, credentials: credentials.length, issuedEvents: issued.length, received: received.get(mandate.id) ?? 0 });
    }
  }
  const overdrawn = mandates.filter((m) => Math.max(m.credentials, m.issuedEvents, m.received) > m.maxUses || m.issuedEvents > m.taken);
  const burntUses = mandates.reduce((sum, m) => sum + m.taken - m.issuedEvents, 0);
  const receivedUnderMandates = ledger.filter((t) => t.mandateId !== null).length;
  return { rowsChecked: ledger.length, lost, unauditedCredentials, mandates, overdrawn, issuedNotReceived: issuedTotal - receivedUnderMandates, burntUses };
}
