import { describeError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import type { MessageVerifier, SignatureRefusal } from './message-signing.js';
import type { QueueMessage, QueueSource } from './queue-consumer.js';

export interface VerifiedQueueSourceOptions {
  source: QueueSource;
  verifier: MessageVerifier;
  /**
   * Keeps a copy of a refused message before it is deleted (a dead-letter queue). Resolve `false` when
   * the copy could not be made: the message is then left on the queue, to be refused again later,
   * rather than lost. @default none: refused messages are deleted
   */
  deadLetter?: ((message: QueueMessage, reason: SignatureRefusal) => Promise<boolean>) | undefined;
  /** Called for each refused message (not for one put off while the replay memory is full). */
  onRefused?: ((reason: SignatureRefusal) => void) | undefined;
  /**
   * What the signature covers in a message: its JSON-RPC text and flat attributes, read out of whatever
   * wraps them on this channel; undefined for a message of the channel's own (an SNS subscription
   * confirmation), which nobody signs and which passes unchecked to its handler.
   * @default the body and attributes as the queue holds them
   */
  signedContent?: ((message: QueueMessage) => SignedContent | undefined) | undefined;
  logger?: Logger;
}

/** The parts of a message a signature covers. */
export interface SignedContent {
  body: string;
  attributes: Readonly<Record<string, string>>;
}

function asQueued(message: QueueMessage): SignedContent {
  return { body: message.body, attributes: message.attributes };
}

/**
 * A queue source that hands out only messages signed with the secret (docs/protocol.md §8,
 * "Signature"): an unsigned, forged, stale or replayed message is logged, dead-lettered when a
 * dead-letter queue is configured, deleted, and never reaches whoever consumes the source.
 */
export class VerifiedQueueSource implements QueueSource {
  readonly #options: VerifiedQueueSourceOptions;
  readonly #source: QueueSource;
  readonly #logger: Logger;
  /** Refused messages, by reason. */
  readonly refused: Record<SignatureRefusal, number> = {
    unsigned: 0,
    malformed: 0,
    forged: 0,
    stale: 0,
    replayed: 0,
    busy: 0,
  };

  constructor(options: VerifiedQueueSourceOptions) {
    this.#options = options;
    this.#source = options.source;
    this.#logger = options.logger ?? silentLogger;
    if (options.source.deleteBatch) this.deleteBatch = (messages) => this.#deleteBatch(messages);
    this.maxDeleteBatch = options.source.maxDeleteBatch;
  }

  get description(): string {
    return this.#source.description;
  }

  readonly maxDeleteBatch: number | undefined;
  readonly deleteBatch?: (messages: readonly QueueMessage[]) => Promise<QueueMessage[]>;

  async receive(request: Parameters<QueueSource['receive']>[0]): Promise<QueueMessage[]> {
    const messages = await this.#source.receive(request);
    const accepted: QueueMessage[] = [];
    for (const message of messages) {
      const signed = (this.#options.signedContent ?? asQueued)(message);
      if (signed === undefined) {
        accepted.push(message);
        continue;
      }
      const verdict = this.#options.verifier.verify({ ...signed, deliveryId: message.messageId });
      if (verdict.ok) {
        accepted.push(message);
        continue;
      }
      this.refused[verdict.reason]++;
      if (verdict.reason !== 'busy') this.#options.onRefused?.(verdict.reason);
      await this.#refuse(message, verdict.reason, verdict.detail);
    }
    return accepted;
  }

  delete(message: QueueMessage): Promise<void> {
    return this.#source.delete(message);
  }

  changeVisibility(message: QueueMessage, seconds: number): Promise<void> {
    return this.#source.changeVisibility(message, seconds);
  }

  #deleteBatch(messages: readonly QueueMessage[]): Promise<QueueMessage[]> {
    return (this.#source.deleteBatch as NonNullable<QueueSource['deleteBatch']>)(messages);
  }

  async #refuse(message: QueueMessage, reason: SignatureRefusal, detail: string): Promise<void> {
    const fields = { queue: this.#source.description, messageId: message.messageId, reason, detail };
    if (reason === 'busy') {
      // Left invisible: it comes back after its visibility timeout, when older ids have expired.
      this.#logger.warn(fields, 'signed message put off: the replay memory is full');
      return;
    }
    this.#logger.warn(fields, 'message refused: its signature does not hold');
    try {
      if (this.#options.deadLetter && !(await this.#options.deadLetter(message, reason))) return;
      await this.#source.delete(message);
    } catch (error) {
      // It comes back after its visibility timeout and is refused again; nothing else sees it.
      this.#logger.error({ ...fields, err: describeError(error) }, 'could not remove a refused message');
    }
  }
}
