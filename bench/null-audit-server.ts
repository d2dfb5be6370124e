/**
 * The benchmark's own composition root for P5: `mandate serve` with an audit sink that links,
 * hashes and seals events in memory but stores nothing. The mint's one-transaction commit
 * (`commitIssue`) runs as in the product, with the same statements minus the audit rows. It exists
 * only here, wired through `createApp`'s store seam: no config key or flag of the product can reach it.
 *
 *   node --import tsx bench/null-audit-server.ts --config <file> --data <dir> --port <port>
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { linkEvents, type AuditEventInput, type AuditRecord, type ChainHead } from '../packages/broker/src/core/audit-chain.ts';
import { createApp } from '../packages/broker/src/app.ts';
import { loadConfig } from '../packages/broker/src/config/load.ts';
import { bootstrapFirstStart } from '../packages/broker/src/first-start.ts';
import type { HeadSealer } from '../packages/broker/src/ports/audit-sink.ts';
import type { Store } from '../packages/broker/src/ports/store.ts';
import { nodeChainHashing } from '../packages/broker/src/store/chain-hashing.ts';

const heads = new Map<string, ChainHead>();
const checkpointFile = () => config.audit.checkpointFile;
let unsealed: { head: ChainHead; time: number; seal: HeadSealer } | null = null;

/**
 * Same linking, hashing and sealing work as the real sink, minus the store and its durable commit.
 * Like the real group commit, the head is sealed once per batch (here: per event-loop turn) and
 * appended to the checkpoint file, as the product does after each commit.
 */
function appendInMemory(chain: string, inputs: readonly AuditEventInput[], time: number, seal: HeadSealer): AuditRecord[] {
  const records = linkEvents(chain, heads.get(chain) ?? null, inputs, time, nodeChainHashing);
  const last = records.at(-1);
  if (last) {
    const head = { chain, seq: last.seq, hash: last.hash };
    heads.set(chain, head);
    if (!unsealed) setImmediate(() => {
      const { head: latest, time: at, seal: sealLatest } = unsealed!;
      unsealed = null;
      appendFileSync(checkpointFile(), `${sealLatest(latest, at)}\n`, { mode: 0o600, flag: 'a' });
    });
    unsealed = { head, time, seal };
  }
  return records;
}

/** The store with the null audit sink, and a mint commit that stores everything but the audit rows. */
function withNullAudit(store: Store): Store {
  const { commitIssue } = store.credentials;
  store.audit = { ...store.audit, append: async (chain, inputs, time, seal) => appendInMemory(chain, inputs, time, seal) };
  if (commitIssue) {
    store.credentials = {
      ...store.credentials,
      async commitIssue(write, audit, events) {
        const committed = await commitIssue(write, audit, []);
        return { ...committed, records: committed.outcome === 'issued' ? appendInMemory(audit.chain, events, audit.time, audit.seal) : [] };
      },
    };
  }
  return store;
}

const { values } = parseArgs({ options: { config: { type: 'string' }, data: { type: 'string' }, port: { type: 'string' }, 'log-level': { type: 'string' } } });
const config = loadConfig({ flags: { config: values.config, data: values.data, port: values.port, logLevel: values['log-level'] ?? 'error' }, env: {} });
const app = await createApp(config, { store: withNullAudit });
await bootstrapFirstStart(app);
await app.http.listen({ host: config.server.host, port: config.server.port });
process.stdout.write(`null-audit mandate listening on ${config.server.port} (pid ${process.pid})\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
