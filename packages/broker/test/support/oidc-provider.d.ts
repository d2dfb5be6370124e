/** The little of oidc-provider (no bundled types) that the console OIDC test and the benchmark's peer use. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Account {
    accountId: string;
    claims(): Promise<Record<string, unknown>>;
  }

  interface Configuration {
    clients?: Array<Record<string, unknown>>;
    claims?: Record<string, string[]>;
    findAccount?(ctx: unknown, sub: string): Promise<Account | undefined>;
    pkce?: { required?(): boolean };
    [key: string]: unknown;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** Koa's listen: the benchmark peer serves the provider on its own port. */
    listen(port: number, host: string, callback?: () => void): import('node:http').Server;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event listeners take per-event arguments
    on(event: string, listener: (...args: any[]) => void): this;
  }
}
