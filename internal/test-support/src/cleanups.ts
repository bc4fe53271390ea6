import { afterEach } from 'vitest';

/** Something a test set up and must take down again (close a client, stop a server, destroy a client). */
export type Cleanup = () => Promise<unknown>;

/**
 * The cleanups the tests of the calling file or `describe` push as they set things up. After each test they
 * run newest first, so what was set up last, and may depend on what came before it, goes first; one that
 * fails is ignored so that the rest still run and the next test starts clean.
 */
export function cleanupsAfterEach(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    while (cleanups.length > 0)
      await cleanups
        .pop()?.()
        .catch(() => undefined);
  });
  return cleanups;
}

/** Starts `part` (a session manager, transport or backend); `cleanups`, when given, closes it after the test. */
export async function started<T extends { start(): Promise<unknown>; close(): Promise<unknown> }>(
  part: T,
  cleanups?: Cleanup[],
): Promise<T> {
  await part.start();
  cleanups?.push(() => part.close());
  return part;
}

/** Has `cleanups` destroy `clients` (AWS SDK clients a test made for itself) after the test. */
export function destroyAfterTest(cleanups: Cleanup[], ...clients: Array<{ destroy(): void }>): void {
  cleanups.push(async () => {
    for (const client of clients) client.destroy();
  });
}
