import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

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
export function adoptedFront(options: AdoptedFrontOptions): StreamableHTTPServerTransport {
  const front = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => options.sessionId,
    eventStore: options.eventStore,
    enableJsonResponse: options.enableJsonResponse,
    onsessionclosed: options.onsessionclosed,
  });
  const inner = (front as unknown as { _webStandardTransport?: Partial<InitializedState> })
    ._webStandardTransport;
  if (inner === undefined || inner._initialized !== false) {
    throw new Error(
      'this version of @modelcontextprotocol/sdk keeps its session state elsewhere; sessions of other gateway instances cannot be adopted',
    );
  }
  inner.sessionId = options.sessionId;
  inner._initialized = true;
  return front;
}
