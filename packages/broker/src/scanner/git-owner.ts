import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { isPersonEmail } from './detectors/jwt-subject.ts';

/** At most this many files are asked about, so a tree full of findings does not spawn git forever. */
const MAX_LOOKUPS = 200;

/**
 * Git obeys the scanned repository's own `.git/config`, so a hostile tree could make `git log` run
 * a program (`log.showSignature` + `gpg.program`, `core.fsmonitor`, a pager). These command-line
 * settings win over the repository's; the environment drops the system and global configuration.
 * What a repository's config can still do to `git log` is why the lookup is opt-in (docs/scanner.md).
 */
const HARDENING = [
  '-c', 'log.showSignature=false', '-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null',
  '-c', 'gpg.program=false', '-c', 'gpg.ssh.program=false', '-c', 'gpg.x509.program=false', '-c', 'core.pager=cat', '--no-pager',
];

/** A real `.git` directory (not a `gitdir:` file or a symlink, which may point anywhere). */
function hasGitDirectory(dir: string): boolean {
  try {
    return lstatSync(join(dir, '.git')).isDirectory();
  } catch {
    return false;
  }
}

/** The work tree holding `dir`: a folder with `.git`, searched upwards but never above `boundary`. */
function workTreeOf(dir: string, boundary: string, cache: Map<string, string | null>): string | null {
  if (cache.has(dir)) return cache.get(dir)!;
  const inside = dir === boundary || dir.startsWith(boundary.endsWith(sep) ? boundary : boundary + sep);
  const tree = !inside ? null : hasGitDirectory(dir) ? dir : dir === boundary ? null : workTreeOf(dirname(dir), boundary, cache);
  cache.set(dir, tree);
  return tree;
}

/**
 * The author email of the last commit touching each file: a guess at whose credential it is
 * (whoever committed it most recently), used only when the secret itself names nobody. Git runs
 * only for a file inside a work tree whose `.git` lies inside the scan root (`boundary`: the
 * root directory, or a file root's own directory), with HARDENING, at most MAX_LOOKUPS times per scan.
 */
export function createGitOwnerLookup(): (path: string, boundary: string) => string | null {
  const trees = new Map<string, string | null>();
  const owners = new Map<string, string | null>();
  let lookups = 0;
  return (path, boundary) => {
    const file = resolve(path);
    if (owners.has(file)) return owners.get(file)!;
    const tree = workTreeOf(dirname(file), resolve(boundary), trees);
    let owner: string | null = null;
    if (tree !== null && lookups++ < MAX_LOOKUPS) {
      const email = git(tree, ['log', '--no-show-signature', '-1', '--format=%ae', '--', relative(tree, file)]);
      owner = isPersonEmail(email) ? email : null;
    }
    owners.set(file, owner);
    return owner;
  };
}

function git(tree: string, args: string[]): string | null {
  // GIT_DIR and GIT_WORK_TREE pin the repository: git does not go looking for another one.
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', GIT_DIR: join(tree, '.git'), GIT_WORK_TREE: tree,
    GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0',
  };
  try {
    return execFileSync('git', [...HARDENING, ...args], { cwd: tree, env, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null; // git missing, or the file is untracked
  }
}
