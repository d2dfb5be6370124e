import { createServer } from 'node:net';
import type { Command } from 'commander';
import { createApp } from '../app.ts';
import { ConfigError, loadConfig, type Config, type ConfigFlags } from '../config/load.ts';
import { bootstrapFirstStart, ADMIN_TOKEN_FILE } from '../first-start.ts';
import { createShutdown } from './shutdown.ts';

type ServeOptions = ConfigFlags;

/** `mandate serve`: runs the broker on the embedded store until SIGINT/SIGTERM (graceful, see shutdown.ts). */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the broker (embedded SQLite store in the data directory)')
    .option('--config <file>', 'JSON config file (env MANDATE_CONFIG)')
    .option('--host <host>', 'address to bind (env MANDATE_HOST, default 127.0.0.1)')
    .option('--port <port>', 'TCP port (env MANDATE_PORT, default 7420; 0 = any free port)')
    .option('--issuer <url>', 'issuer URL (env MANDATE_ISSUER, default http://localhost:<port>)')
    .option('--data <dir>', 'data directory (env MANDATE_DATA, default ./.mandate)')
    .option('--log-level <level>', 'log level (env MANDATE_LOG_LEVEL, default info)')
    .action(serve);
}

async function serve(options: ServeOptions): Promise<void> {
  const config = await loadServeConfig(options);
  if (!config) return;
  process.umask(0o077); // everything the broker writes in its data directory is owner-only
  const app = await startApp(config);
  if (!app) return;
  if (await bootstrapFirstStart(app))
    process.stdout.write(`first start: admin token for "${config.bootstrap.adminName}" written to ${config.dataDir}/${ADMIN_TOKEN_FILE}\n`);
  await app.http.listen({ host: config.server.host, port: config.server.port });
  process.stdout.write(`mandate listening on http://${config.server.host}:${config.server.port} (issuer ${config.issuer}, pid ${process.pid})\n`);
  // Graceful shutdown (docs/operations.md): drain in-flight requests; a second signal forces exit.
  const shutdown = createShutdown(app, { graceMs: config.server.shutdownGrace, exit: (code) => process.exit(code) });
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** Settings only the store can check (a second live replica on one `audit.chain`) fail like bad config. */
async function startApp(config: Config): Promise<Awaited<ReturnType<typeof createApp>> | null> {
  try {
    return await createApp(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
    return null;
  }
}

/** Bad config fails here, before anything starts, with one dotted path per mistake. */
async function loadServeConfig(options: ServeOptions): Promise<Config | null> {
  try {
    const config = loadConfig({ flags: options, env: process.env });
    return config.server.port === 0 ? await withFreePort(config, options) : config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
    return null;
  }
}

/** `--port 0`: pick a free port first, so the issuer (and every URL) names the real one. */
async function withFreePort(config: Config, options: ServeOptions): Promise<Config> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, config.server.host, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  return loadConfig({ flags: { ...options, port: String(port) }, env: process.env });
}
