import { createServer } from 'node:net';

/**
 * A free loopback port, for a server that must know its own address before it listens (a gateway told its
 * own webhook base URL): the port is bound and released again, so nothing else holds it a moment later.
 */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the loopback probe');
  return address.port;
}
