import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** One command an AWS SDK client sent: its name without `Command`, its input, and whether it succeeded. */
export interface AwsCall {
  command: string;
  input: Record<string, unknown>;
  ok: boolean;
}

type AwsClient = SNSClient | SQSClient;

/** The name of every command (`PublishCommand`, …) `client` sends from now on, in the order it sends them. */
export function commandNamesOf(client: AwsClient): string[] {
  const names: string[] = [];
  // The two clients' stacks differ only in their input and output types, which this never reads.
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      names.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  return names;
}

/** Calls `onCall` as each command `client` sends completes, the failed ones too, in completion order. */
export function watchCalls(client: AwsClient, onCall: (call: AwsCall) => void): void {
  (client as SQSClient).middlewareStack.add(
    (next, context) => async (args) => {
      const call = (ok: boolean) =>
        onCall({
          command: String(context.commandName).replace(/Command$/, ''),
          input: args.input as Record<string, unknown>,
          ok,
        });
      try {
        const result = await next(args);
        call(true);
        return result;
      } catch (error) {
        call(false);
        throw error;
      }
    },
    { step: 'initialize', name: 'watchCalls' },
  );
}
