import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '../errors.js';

export const LOCK_FILE_NAME = '.org-policy-store.lock';

interface LockContent {
  readonly pid: number;
  readonly hostname: string;
  readonly token: string;
}

export interface DataDirectoryLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes the lock file of a PGlite data directory: created exclusively with this process's pid, so a
 * second process (or a second store in this one) is refused while the holder lives. A lock whose pid
 * is dead on this host (a `kill -9`) is stale and taken over.
 */
export function lockDataDirectory(dataDir: string): DataDirectoryLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  const mine: LockContent = { pid: process.pid, hostname: hostname(), token: `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}` };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (tryCreate(path, mine)) {
      const release = () => {
        process.removeListener('exit', release);
        if (readLock(path)?.token === mine.token) unlinkSync(path);
      };
      process.on('exit', release);
      return { path, release };
    }
    const raw = readRaw(path);
    if (raw === undefined) continue; // released meanwhile
    const holder = parseLock(raw);
    // Unreadable: a holder killed while writing it, or one writing it right now.
    if (holder === undefined ? isYoung(path) : isAlive(holder)) {
      const pid = holder?.pid;
      throw new StoreError(
        'data_directory_locked',
        `the PGlite data directory ${dataDir} is open in ${pid === undefined ? 'another process' : `process ${pid}${pid === process.pid ? ' (this one)' : ''}`}; PGlite is single-process — run several processes on a PostgreSQL server`,
        { dataDir, pid, lockFile: path },
      );
    }
    // Stale: remove it unless another process took it over meanwhile.
    if (readRaw(path) === raw) {
      try {
        unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }
  throw new StoreError('data_directory_locked', `could not take the lock file ${path}`, { dataDir, lockFile: path });
}

function tryCreate(path: string, content: LockContent): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(content));
  } finally {
    closeSync(fd);
  }
  return true;
}

function readRaw(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLock(path: string): LockContent | undefined {
  const raw = readRaw(path);
  return raw === undefined ? undefined : parseLock(raw);
}

function parseLock(raw: string): LockContent | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockContent>;
    if (typeof value.pid === 'number' && typeof value.hostname === 'string' && typeof value.token === 'string') return value as LockContent;
  } catch {
    // a holder killed while writing it
  }
  return undefined;
}

function isYoung(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < 2_000;
  } catch {
    return false;
  }
}

function isAlive(holder: LockContent): boolean {
  // A pid of another host cannot be checked from here: count it as alive rather than risk two writers.
  if (holder.hostname !== hostname()) return true;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
