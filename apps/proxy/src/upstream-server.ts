import {
  type ConnectableServer,
  type JSONRPCMessage,
  type Logger,
  type ServerFactory,
  silentLogger,
  type Transport,
} from '@asyncmcp/core';
import { SessionBridge } from '@asyncmcp/proxy';
import { StdioClientTransport, type StdioServerParameters } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { forgetExited, reapOnExit } from './stdio-reaper.js';

export interface UpstreamServerOptions {
  /** A request the upstream does not answer in this time gets a JSON-RPC error. @default PROXY_DEFAULTS.requestTimeoutMs (300000) */
  requestTimeoutMs?: number;
  logger?: Logger;
}

type Upstream = Transport & { terminateSession?: () => Promise<void> };

/** An upstream transport whose `close()` also ends the upstream session (HTTP DELETE), not just the connection. */
class EndingUpstream implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(private readonly upstream: Upstream) {}

  async start(): Promise<void> {
    this.upstream.onmessage = (message, extra) => this.onmessage?.(message, extra);
    this.upstream.onclose = () => this.onclose?.();
    this.upstream.onerror = (error) => this.onerror?.(error);
    await this.upstream.start();
  }

  send(...args: Parameters<Transport['send']>): Promise<void> {
    return this.upstream.send(...args);
  }

  setProtocolVersion(version: string): void {
    this.upstream.setProtocolVersion?.(version);
  }

  async close(): Promise<void> {
    await this.upstream.terminateSession?.().catch(() => undefined);
    await this.upstream.close();
  }
}

/** A child process the reaper (stdio-reaper.ts) ends, with its descendants, should this process die first. */
class ReapedStdioTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;

  constructor(
    private readonly stdio: StdioClientTransport,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    let pid: number | null = null;
    this.stdio.onmessage = (message) => this.onmessage?.(message);
    this.stdio.onerror = (error) => this.onerror?.(error);
    this.stdio.onclose = () => {
      if (pid !== null) forgetExited(pid);
      this.onclose?.();
    };
    await this.stdio.start();
    pid = this.stdio.pid;
    if (pid !== null) reapOnExit(pid, this.logger);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.stdio.send(message);
  }

  close(): Promise<void> {
    return this.stdio.close();
  }
}

/**
 * A "server" for a session manager that is really a pipe to an existing MCP server: each async session
 * gets its own upstream connection, and messages pass through both ways untouched.
 */
class UpstreamServer implements ConnectableServer {
  #bridge: SessionBridge | undefined;

  constructor(
    private readonly openUpstream: () => Upstream,
    private readonly options: UpstreamServerOptions,
  ) {}

  async connect(transport: Transport): Promise<void> {
    const upstream = this.openUpstream();
    this.#bridge = new SessionBridge({
      front: transport,
      back: new EndingUpstream(upstream),
      requestTimeoutMs: this.options.requestTimeoutMs,
      logger: this.options.logger ?? silentLogger,
    });
    await this.#bridge.start();
  }

  async close(): Promise<void> {
    await this.#bridge?.close();
  }
}

export interface StdioServerFactoryOptions extends UpstreamServerOptions {
  /**
   * End the children, and every process they started, when this process ends without ending them —
   * even SIGKILLed — through one small sidecar process per process (not on Windows).
   * @default true
   */
  reapOnExit?: boolean;
}

/**
 * Serves an existing stdio MCP server on an async transport: one child process per session, started on
 * `initialize` and ended with the session (or when it is evicted). A child that exits mid-call ends its
 * session with a JSON-RPC error to the client.
 *
 * Children do not outlive this process: with `reapOnExit` (the default), the first child starts a
 * reaper, a detached Node.js sidecar that learns every child's pid over a pipe and, once that pipe
 * closes because this process has ended however it ended, sends SIGTERM and after 2 s SIGKILL to the
 * children still running and to their descendants (an `npx` and the server it started).
 *
 * @example new SqsSessionManager({ ..., createServer: createStdioServerFactory({ command: 'node', args: ['server.js'] }) })
 */
export function createStdioServerFactory(
  parameters: StdioServerParameters,
  options: StdioServerFactoryOptions = {},
): ServerFactory {
  const reaped = (options.reapOnExit ?? true) && process.platform !== 'win32';
  const logger = options.logger ?? silentLogger;
  return () =>
    new UpstreamServer(() => {
      const stdio = new StdioClientTransport({ stderr: 'inherit', ...parameters });
      return reaped ? new ReapedStdioTransport(stdio, logger) : stdio;
    }, options);
}

export interface HttpUpstreamOptions extends UpstreamServerOptions {
  /** Headers on every upstream request, e.g. `Authorization`. */
  headers?: Record<string, string>;
}

/**
 * Serves an existing Streamable HTTP MCP server on an async transport: one upstream session per async
 * session, deleted when it ends.
 */
export function createHttpUpstreamFactory(
  url: string | URL,
  options: HttpUpstreamOptions = {},
): ServerFactory {
  const target = new URL(url);
  return () =>
    new UpstreamServer(
      () =>
        new StreamableHTTPClientTransport(
          target,
          options.headers ? { requestInit: { headers: options.headers } } : undefined,
        ),
      options,
    );
}
