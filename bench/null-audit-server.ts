/**
 * The benchmark's own composition root for BENCH.md P5: `mandate serve` with an audit sink that
 * links and hashes events in memory but stores nothing. It exists only here, wired through
 * `createApp`'s test seam: no config key or flag of the product can reach it.
 *
 *   node --import tsx bench/null-audit-server.ts --config <file> --data <dir> --port <port>
 */
import { parseArgs } from 'node:util';
import { linkEvents, type ChainHead } from '../packages/broker/src/core/audit-chain.ts';
import { createApp } from '../packages/broker/src/app.ts';
import { loadConfig } from '../packages/broker/src/config/load.ts';
import { bootstrapFirstStart } from '../packages/broker/src/first-start.ts';
import type { AuditSink } from '../packages/broker/src/ports/audit-sink.ts';
import { nodeChainHashing } from '../packages/broker/src/store/chain-hashing.ts';

/** Same linking and hashing work as the real sink, minus the store and its durable commit. */
function nullAuditSink(real: AuditSink): AuditSink {
  const heads = new Map<string, ChainHead>();
  return {
    ...real,
    async append(chain, inputs, time, seal) {
      const records = linkEvents(chain, heads.get(chain) ?? null, inputs, time, nodeChainHashing);
      const last = records.at(-1);
      if (last) {
        const head = { chain, seq: last.seq, hash: last.hash };
        seal(head, time);
        heads.set(chain, head);
      }
      return records;
    },
  };
}

const { values } = parseArgs({ options: { config: { type: 'string' }, data: { type: 'string' }, port: { type: 'string' }, 'log-level': { type: 'string' } } });
const config = loadConfig({ flags: { config: values.config, data: values.data, port: values.port, logLevel: values['log-level'] ?? 'error' }, env: {} });
const app = await createApp(config, { auditSink: nullAuditSink });
await bootstrapFirstStart(app);
await app.http.listen({ host: config.server.host, port: config.server.port });
process.stdout.write(`null-audit mandate listening on ${config.server.port} (pid ${process.pid})\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
