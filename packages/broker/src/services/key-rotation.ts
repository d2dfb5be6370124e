import type { KeyRecord } from '../core/model.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { ActionContext } from './action-context.ts';

/** `keys rotate`: PROTOCOL §7 — the new key is published before it signs; the rotation is audited. */
export async function rotateSigningKey(deps: { keys: KeyService; audit: AuditLog }, ctx: ActionContext): Promise<KeyRecord> {
  const record = await deps.keys.rotate();
  await deps.audit.record({
    type: 'key.rotated',
    actor: ctx.actor,
    requestId: ctx.requestId,
    data: { kid: record.kid, alg: record.alg, activates_at: record.activatesAt },
  });
  return record;
}
