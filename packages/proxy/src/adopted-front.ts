import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { SessionFront } from './session-front.js';

export interface AdoptedFrontOptions {
  /** The session's `Mcp-Session-Id`, minted by the instance that opened it. */
  sessionId: string;
  eventStore: EventStore;
  enableJsonResponse: boolean;
  onsessionclosed: (sessionId: string) => void | Promise<void>;
}

/** The fields of the SDK's web-standard transport that say a session's `initialize` is done. */
interface InitializedState {
  sessionId?: string;
  _initialized: boolean;
}

/**
 * The SDK's Streamable HTTP transport for a session another gateway instance opened: in the state its
 * own `initialize` would have left it in, so every check it makes on a request (405, 406, 415, 400 on a
 * bad `MCP-Protocol-Version`, 404 on another `Mcp-Session-Id`, 400 on a second `initialize`) is the SDK's
 * own. The SDK has no public way to start a transport initialized, so this sets the two fields its
 * `initialize` sets, and refuses to run on an SDK where they are not where they were (see the test).
 */
export function adoptedFront(options: AdoptedFrontOptions): SessionFront {
  const front = new SessionFront({
    sessionIdGenerator: () => options.sessionId,
    eventStore: options.eventStore,
    enableJsonResponse: options.enableJsonResponse,
    onsessionclosed: options.onsessionclosed,
  });
  const inner = front as unknown as Partial<InitializedState>;
  if (inner._initialized !== false) {
    throw new Error(
      'this version of @modelcontextprotocol/sdk keeps its session state elsewhere; sessions of other gateway instances cannot be adopted',
    );
  }
  inner.sessionId = options.sessionId;
  inner._initialized = true;
  return front;
}

/**
 * The JSON-RPC ids of the requests the SDK transport answers on a stream, while they run. The SDK keeps
 * this only privately: read where it is, and none when it is not there (a resumed call of a dead
 * instance then waits for its timeout instead of failing at once; the test of this module says so).
 */
export function streamRequestIds(front: SessionFront): (streamId: string) => RequestId[] {
  const mapping = (front as unknown as { _requestToStreamMapping?: unknown })._requestToStreamMapping;
  if (!(mapping instanceof Map)) return () => [];
  return (streamId) => {
    const ids: RequestId[] = [];
    for (const [id, stream] of mapping as Map<RequestId, string>) if (stream === streamId) ids.push(id);
    return ids;
  };
}
