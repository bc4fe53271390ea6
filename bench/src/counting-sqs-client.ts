import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * An SQS client that counts its API calls by command, and keeps when its latest receives started, for
 * the idle-cost figures.
 */
export function countingSqsClient(endpoint: string): {
  client: SQSClient;
  counts: Record<string, number>;
  receiveTimes: number[];
} {
  const client = new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const counts: Record<string, number> = {};
  const receiveTimes: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts[name] = (counts[name] ?? 0) + 1;
      if (name === 'ReceiveMessageCommand') {
        receiveTimes.push(Date.now());
        if (receiveTimes.length > 200) receiveTimes.shift();
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  return { client, counts, receiveTimes };
}

/** Heap in use after a full collection (the child runs with --expose-gc). */
export function settledHeap(): number {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
  return process.memoryUsage().heapUsed;
}
