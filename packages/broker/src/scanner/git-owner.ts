import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { isPersonEmail } from './detectors/jwt-subject.ts';

/** At most this many files are asked about, so a tree full of findings does not spawn git forever. */
const MAX_LOOKUPS = 200;

/** The work tree holding `dir` (a parent with `.git`), found without spawning anything. */
function workTreeOf(dir: string, cache: Map<string, string | null>): string | null {
  if (cache.has(dir)) return cache.get(dir)!;
  const parent = dirname(dir);
  const tree = existsSync(join(dir, '.git')) ? dir : parent === dir ? null : workTreeOf(parent, cache);
  cache.set(dir, tree);
  return tree;
}

/**
 * The author email of the last commit touching each file: a guess at whose credential it is
 * (whoever committed it most recently), used only when the secret itself names nobody. Git runs
 * only for files inside a work tree, at most MAX_LOOKUPS times per scan.
 */
export function createGitOwnerLookup(): (path: string) => string | null {
  const trees = new Map<string, string | null>();
  const owners = new Map<string, string | null>();
  let lookups = 0;
  return (path) => {
    const file = resolve(path);
    if (owners.has(file)) return owners.get(file)!;
    const tree = workTreeOf(dirname(file), trees);
    let owner: string | null = null;
    if (tree !== null && lookups++ < MAX_LOOKUPS) {
      const email = git(tree, ['log', '-1', '--format=%ae', '--', relative(tree, file)]);
      owner = isPersonEmail(email) ? email : null;
    }
    owners.set(file, owner);
    return owner;
  };
}

function git(cwd: string, args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null; // git missing, or the file is untracked
  }
}
