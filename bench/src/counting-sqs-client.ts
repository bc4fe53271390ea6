import { AWS_CLIENT_DEFAULTS } from '@asyncmcp/sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Counts the API requests `client` sends, by command, into `counts`, and keeps when its latest receives
 * started in `receiveTimes`. Counted per HTTP request (after the retry step), so a retried call counts
 * as often as it is sent: what the queue service bills.
 */
export function countApiRequests(
  client: SQSClient | SNSClient,
  counts: Record<string, number>,
  receiveTimes: number[],
): void {
  // Both clients' stacks take the same middleware; the union of their types does not type-check `add`.
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts[name] = (counts[name] ?? 0) + 1;
      if (name === 'ReceiveMessageCommand') {
        receiveTimes.push(Date.now());
        if (receiveTimes.length > 200) receiveTimes.shift();
      }
      return next(args);
    },
    { step: 'deserialize', name: 'benchRequestCounter' },
  );
}

/**
 * An SQS client that counts its API requests by command, and keeps when its latest receives started, for
 * the idle-cost figures.
 */
export function countingSqsClient(endpoint: string): {
  client: SQSClient;
  counts: Record<string, number>;
  receiveTimes: number[];
} {
  const client = new SQSClient({
    ...AWS_CLIENT_DEFAULTS,
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const counts: Record<string, number> = {};
  const receiveTimes: number[] = [];
  countApiRequests(client, counts, receiveTimes);
  return { client, counts, receiveTimes };
}

/** Heap in use after a full collection (the child runs with --expose-gc). */
export function settledHeap(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
  return process.memoryUsage().heapUsed;
}
