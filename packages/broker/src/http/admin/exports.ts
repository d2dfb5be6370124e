import { z } from 'zod';
import { readExportPage, toJsonLine } from '../../audit/export-jsonl.ts';
import { agentsOfMandates, brokerVersion, toOcsf } from '../../audit/export-ocsf.ts';
import { toCsv } from '../../core/csv.ts';
import { MandateError } from '../../core/errors.ts';
import { buildInventory, INVENTORY_COLUMNS } from '../../services/inventory.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';

export const MAX_EXPORT_PAGE = 1000;

const limit = z
  .string()
  .regex(/^[1-9][0-9]{0,3}$/, 'must be an integer from 1 to 1000')
  .transform(Number)
  .refine((n) => n <= MAX_EXPORT_PAGE, 'must be an integer from 1 to 1000');
const time = z.iso.datetime({ offset: true }).transform((text) => Date.parse(text));
const auditQuery = z.strictObject({
  format: z.enum(['jsonl', 'ocsf']).default('jsonl'),
  from: time.optional(),
  to: time.optional(),
  cursor: z.string().min(1).max(512).optional(),
  limit: limit.optional(),
});
const inventoryQuery = z.strictObject({ format: z.enum(['csv', 'json']).default('json') });

/**
 * `GET /admin/v1/audit/export`: one page of events with `from` ≤ time < `to`, oldest first, as
 * JSON-lines records or OCSF events; `next_cursor` fetches the next page (null on the last).
 */
async function exportAudit(ctx: RouteContext<{ query: typeof auditQuery }>): Promise<void> {
  const { format, from = 0, to = ctx.deps.clock.now() + 1, cursor, limit: size = 100 } = ctx.query;
  if (from >= to) throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'from must be earlier than to', { parameter: 'from' });
  const page = await readExportPage(ctx.deps.store.audit, { from, to, cursor: cursor ?? null, limit: size });
  const events = format === 'jsonl'
    ? page.records.map(toJsonLine)
    : await ocsfEvents(ctx, page.records);
  respond(ctx, 200, { format, events, next_cursor: page.nextCursor });
}

async function ocsfEvents(ctx: RouteContext, records: Parameters<typeof toJsonLine>[0][]) {
  const agentOfMandate = await agentsOfMandates(records, (id) => ctx.deps.store.mandates.get(id));
  return records.map((r) => toOcsf(r, { productVersion: brokerVersion(), agentOfMandate }));
}

/** `GET /admin/v1/inventory/export`: every agent with owners, lifecycle dates and raised flags. */
async function exportInventory(ctx: RouteContext<{ query: typeof inventoryQuery }>): Promise<void> {
  const rows = await buildInventory(ctx.deps.store);
  if (ctx.query.format === 'json') return respond(ctx, 200, { agents: rows });
  respond(ctx, 200, toCsv(INVENTORY_COLUMNS, rows), {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': 'attachment; filename="mandate-inventory.csv"',
  });
}

export const exportRoutes = [
  defineRoute({
    method: 'GET', path: '/admin/v1/audit/export', family: 'admin', body: 'none', right: 'audit:read',
    summary: 'Export audit events (JSON lines or OCSF 1.3.0) by time range, paged', schema: { query: auditQuery }, steps: [exportAudit],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/inventory/export', family: 'admin', body: 'none', right: 'agents:read',
    summary: 'Export the agent inventory (CSV or JSON)', schema: { query: inventoryQuery }, steps: [exportInventory],
  }),
];
