import type { Logger } from '@asyncmcp/core';
import {
  type ListenOptions,
  type NodeRequestHandler,
  type RunningHttpServer,
  startHttpServerAt,
} from './webhook-http.js';

/** A session manager's endpoint on a server of its own, for managers that are not mounted elsewhere. */
export class EndpointListener {
  #listener: RunningHttpServer | undefined;

  constructor(
    private readonly path: string,
    private readonly handler: NodeRequestHandler,
    private readonly logger: Logger,
  ) {}

  /** The endpoint's URL once `listen()` has bound it. */
  get url(): string | undefined {
    return this.#listener ? `${this.#listener.origin}${this.path}` : undefined;
  }

  /** Binds the server; a manager has at most one. Resolves with the endpoint's URL. */
  async listen(options: ListenOptions): Promise<string> {
    if (this.#listener) throw new Error('The manager is already listening');
    this.#listener = await startHttpServerAt(this.path, this.handler, options, this.logger);
    return this.url as string;
  }

  async close(): Promise<void> {
    await this.#listener?.close();
  }
}
