import { execFileSync } from 'node:child_process';

/** Whether `pid` runs; a zombie (exited, its parent's wait still missing) does not. */
export function isRunning(pid: number): boolean {
  try {
    const stat = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return stat !== '' && !stat.startsWith('Z');
  } catch {
    return false;
  }
}
