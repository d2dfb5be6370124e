import type { Config } from '../config/load.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import type { AdminTokenService } from '../services/admin-tokens.ts';
import type { DirectoryService } from '../services/directory.ts';

/** What the HTTP layer is given by the composition root. */
export interface HttpDeps {
  config: Config;
  store: Store;
  keys: KeyService;
  audit: AuditLog;
  directory: DirectoryService;
  adminTokens: AdminTokenService;
  clock: Clock;
  random: Random;
}
