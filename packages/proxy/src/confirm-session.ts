import {
  adoptionPing,
  type BackendMessageExtra,
  describeError,
  isAnswer,
  type JSONRPCMessage,
  JsonRpcErrorCode,
  type Transport,
} from '@asyncmcp/core';

export type SessionConfirmation =
  | { readonly status: 'held' }
  /** The servers answered that they do not hold it (unknown, or terminated). */
  | { readonly status: 'unknown'; readonly detail: string }
  /** No answer in time, an error of another kind, or the backend could not be reached. */
  | { readonly status: 'unconfirmed'; readonly detail: string };

/** The id of the `ping` that asks; the backend sends it under an unguessable wire id of its own. */
const CONFIRM_ID = 'asyncmcp-adopt';
const NOT_HELD = /^Session (not found|has been terminated)/;

/**
 * Asks the servers behind a backend transport whether they hold its session, with one `ping` (MCP allows
 * it at any time, and every server answers it). The transport's `onmessage` is borrowed for the answer
 * and given back; whatever else arrives meanwhile goes on to it.
 */
export async function confirmSession(
  back: Transport,
  { timeoutMs }: { timeoutMs: number },
): Promise<SessionConfirmation> {
  const handler = back.onmessage;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<SessionConfirmation>((resolve) => {
      timer = setTimeout(
        () => resolve({ status: 'unconfirmed', detail: `no answer within ${timeoutMs} ms` }),
        timeoutMs,
      );
      back.onmessage = (message: JSONRPCMessage, extra?: BackendMessageExtra) => {
        if (!isAnswer(message) || message.id !== CONFIRM_ID) return handler?.(message, extra);
        if ('result' in message) return resolve({ status: 'held' });
        const { code, message: detail } = message.error;
        // PROTOCOL.md §5: what a server says of a session it does not hold.
        const unknown = code === JsonRpcErrorCode.InvalidRequest && NOT_HELD.test(detail);
        resolve({ status: unknown ? 'unknown' : 'unconfirmed', detail });
      };
      back
        .send(adoptionPing(CONFIRM_ID))
        .catch((error: unknown) => resolve({ status: 'unconfirmed', detail: describeError(error) }));
    });
  } finally {
    clearTimeout(timer);
    back.onmessage = handler;
  }
}
