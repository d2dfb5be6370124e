import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, type Dirent } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** Directories never entered: dependencies and version-control internals hold no agent config of yours. */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set(['node_modules', '.git', '.hg', '.svn', '__pycache__', '.venv', 'venv', '.tox']);
export const MAX_FILE_BYTES = 1024 * 1024;
/** How far a binary sniff looks for a NUL byte (the same window git uses). */
const SNIFF_BYTES = 8000;
/** Media, archives and compiled code: skipped by name before they are read. */
const BINARY_EXTENSIONS = new Set(
  'png jpg jpeg gif webp bmp ico tif tiff pdf zip gz tgz bz2 xz zst 7z rar jar war class so dylib dll exe bin o a lib wasm woff woff2 ttf otf eot mp3 mp4 m4a mov avi mkv webm wav flac ogg pyc sqlite db'
    .split(' ').map((e) => `.${e}`),
);

export interface WalkedFile {
  /** Absolute (or as given) path, for reading. */
  path: string;
  /** Path relative to the scan root with '/' separators, for reports. */
  rel: string;
}

export type FileVerdict = { text: string } | { skipped: 'binary' | 'too_large' | 'unreadable' };

/**
 * Every regular file under `root`, depth first. Symlinks are followed, but a directory is entered
 * once only (by device and inode), so symlink loops end. Files that are neither regular nor
 * symlinks to regular files (sockets, FIFOs, devices) are counted in `onSkip` and never opened.
 */
export function* walkFiles(root: string, onSkip: () => void): Generator<WalkedFile> {
  const visited = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const id = dirId(dir);
    if (id === null || visited.has(id)) continue;
    visited.add(id);
    for (const entry of listDir(dir)) {
      const path = join(dir, entry.name);
      const type = typeOf(entry, path);
      if (type === 'dir' && !SKIPPED_DIRECTORIES.has(entry.name)) stack.push(path);
      else if (type === 'file') yield { path, rel: relative(root, path).split(sep).join('/') };
      else if (type === 'other') onSkip();
    }
  }
}

function dirId(dir: string): string | null {
  try {
    const stat = statSync(dir);
    return stat.isDirectory() ? `${stat.dev}:${stat.ino}` : null;
  } catch {
    return null;
  }
}

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return []; // unreadable directory: nothing to report from it
  }
}

function typeOf(entry: Dirent, path: string): 'dir' | 'file' | 'other' | 'gone' {
  if (entry.isDirectory()) return 'dir';
  if (entry.isFile()) return 'file';
  if (!entry.isSymbolicLink()) return 'other';
  try {
    const target = statSync(path);
    return target.isDirectory() ? 'dir' : target.isFile() ? 'file' : 'other';
  } catch {
    return 'gone'; // a dangling link
  }
}

/** Reads a file as text unless it is binary (by name, or a NUL byte in its first 8000 bytes) or over 1 MiB. */
export function readTextFile(path: string): FileVerdict {
  if (BINARY_EXTENSIONS.has(extname(path).toLowerCase())) return { skipped: 'binary' };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { skipped: 'unreadable' };
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_FILE_BYTES) return { skipped: 'too_large' };
    const buffer = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    const bytes = buffer.subarray(0, read);
    if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return { skipped: 'binary' };
    return { text: bytes.toString('utf8') };
  } catch {
    return { skipped: 'unreadable' };
  } finally {
    closeSync(fd);
  }
}
