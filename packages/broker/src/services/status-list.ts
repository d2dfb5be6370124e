import { JWT_TYP } from '@mandate/sdk/protocol';
import { encodeStatusList } from '@mandate/sdk/status-list';
import type { Config } from '../config/load.ts';
import { MandateError } from '../core/errors.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { StatusListSlot } from '../ports/status-lists.ts';
import type { Store } from '../ports/store.ts';

/** Where the lists are served: `GET /statuslists/{id}`. */
export const STATUS_LIST_PATH = '/statuslists';
/**
 * A slot is reused only this long after its holder's `exp`: verifiers accept `exp` with a clock
 * skew (the SDK's default is 30 s), and until then the old holder's bit must stay its own.
 */
export const REUSE_GRACE_MS = 60_000;
/** Random draws in one list before moving on; at 16 misses the list is ≥ ~85 % held with odds 1 − 0.85¹⁶ ≈ 93 %. */
const DRAWS_PER_LIST = 16;

export interface StatusReference {
  idx: number;
  uri: string;
}

export interface StatusListDeps {
  store: Store;
  keys: KeyService;
  config: Config;
  clock: Clock;
  random: Random;
}

export const statusListUri = (issuer: string, id: string): string => `${issuer}${STATUS_LIST_PATH}/${id}`;

/**
 * Token Status List (draft-ietf-oauth-status-list, PROTOCOL §7). Every access token holds one
 * random index of a list until a while after its `exp` (indexes are random, so a list reveals
 * neither issuance order nor rate; they are never reused before the holder's `exp`). A bit is 1
 * while the holder's credential is revoked: the list is computed from the credentials, the one
 * record every revocation path (agent, admin, cascades, suspension) already writes.
 */
export function createStatusListService(deps: StatusListDeps) {
  const { store, config, clock, random } = deps;
  const ttlSeconds = Math.floor(config.revocation.statusListTtl / 1000);
  /** This process's current list; replicas may briefly disagree, which only spreads tokens wider. */
  let current: { id: string; size: number } | undefined;

  const draw = (size: number) => Buffer.from(random.base64url(6), 'base64url').readUIntBE(0, 6) % size;

  const openList = async (id: string) => {
    await store.statusLists.ensureList(id, config.revocation.statusListSize, clock.now());
    const list = (await store.statusLists.lists()).find((l) => l.id === id)!;
    current = list;
    return list;
  };

  const currentList = async () => current ?? openList((await store.statusLists.lists()).at(-1)?.id ?? '1');

  /**
   * Candidate slots for the token `jti` expiring at `expSeconds`, for the caller to claim in turn
   * (alone, or inside the mint's one commit): random indexes of the current list, then of new lists.
   */
  async function* candidates(jti: string, expSeconds: number): AsyncGenerator<StatusListSlot> {
    for (let list = await currentList(); ; list = await openList(String(Number(list.id) + 1))) {
      for (let i = 0; i < DRAWS_PER_LIST; i++) yield { listId: list.id, idx: draw(list.size), jti, reusableAt: expSeconds * 1000 + REUSE_GRACE_MS };
    }
  }

  /** The token's `status.status_list` claim for a claimed slot. */
  const reference = (slot: StatusListSlot): StatusReference => ({ idx: slot.idx, uri: statusListUri(config.issuer, slot.listId) });

  return {
    candidates,
    reference,

    /** The signed Status List Token (§5.1) and its HTTP `max-age`, which equals its `ttl`. */
    async token(id: string): Promise<{ jwt: string; maxAge: number }> {
      const list = (await store.statusLists.lists()).find((l) => l.id === id);
      if (!list) throw new MandateError('ERR_STATUS_LIST_NOT_FOUND', 'no such status list');
      const now = clock.now();
      const lst = encodeStatusList(await store.statusLists.revokedIndexes(id, now), list.size);
      const iat = Math.floor(now / 1000);
      const claims = { iss: config.issuer, sub: statusListUri(config.issuer, id), iat, exp: iat + ttlSeconds, ttl: ttlSeconds, status_list: { bits: 1, lst } };
      return { jwt: deps.keys.sign({ typ: JWT_TYP.statusList }, claims), maxAge: ttlSeconds };
    },
  };
}

export type StatusListService = ReturnType<typeof createStatusListService>;
