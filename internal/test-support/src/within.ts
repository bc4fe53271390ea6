/** The bound on a single wait in the tests, unless one says otherwise: a hang fails, naming what it waited for. */
export const WAIT_MS = 20_000;

/** `promise`, or a rejection naming `what` once `ms` have passed: every wait in the tests is bounded. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
