import type { QueuePollingOptions, ServerFactory, SessionDispatcherOptions } from '@asyncmcp/core';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsControlMessageHandler, SqsReplyChannel } from './sqs-channels.js';
import type { SqsSigningOptions } from './sqs-signing.js';
import type { WorkerInboxOption } from './worker-inbox.js';

/** What the manager passes on to core's dispatcher as it is, documented there. */
type DispatcherSettings = Pick<
  SessionDispatcherOptions<string>,
  | 'maxSessions'
  | 'sessionIdleTimeoutMs'
  | 'maxInFlightPerSession'
  | 'logger'
  | 'onsessioninitialized'
  | 'onsessionclosed'
>;

export interface SqsSessionManagerOptions extends SqsSigningOptions, QueuePollingOptions, DispatcherSettings {
  sqsClient: SQSClient;
  /** The queue every client sends to. */
  requestQueueUrl: string;
  /** Makes the MCP server of each new session (`() => new McpServer(...)` with its tools registered). */
  createServer: ServerFactory;
  /**
   * Messages that cannot be parsed, messages naming a response destination this manager refuses, and
   * with `signingSecret` messages refused for their signature, go
   * here before they are deleted. @default none (deleted with a log line)
   */
  deadLetterQueueUrl?: string;
  /**
   * Response destinations a message may name besides those of the request queue's own endpoint and
   * account (PROTOCOL.md §8, "Destinations"): queue URL prefixes (`https://sqs.eu-west-1.amazonaws.com/111122223333/`,
   * compared as parsed URLs) and, for `@asyncmcp/sns-sqs`, topic ARNs (a trailing `*` makes an ARN a
   * prefix). Any other destination is refused: logged, dead-lettered (or deleted), never answered.
   * @default none: only queues on the request queue's endpoint (the SQS client's explicit endpoint, or
   * the request queue URL's origin) and account, and topics in its account and region
   */
  allowedResponseDestinations?: readonly string[];
  /**
   * For managers that share one request queue (workers): hand a message for a session this manager does
   * not hold back to the queue, up to this many receives of it, so the worker holding the session can
   * take it; after that it is dropped with a log line. Sessions live in the worker that opened them, so
   * with N workers a message needs about N receives on average. @default 0 (this manager is the queue's
   * only reader)
   */
  releaseUnknownSessions?: number;
  /**
   * A queue of this worker's own (`'create'`, or `{ queueUrl }` of one made for it). Its `initialize`
   * answers name it (`_meta["asyncmcp/worker"]`), so our clients and gateway send a session's later
   * messages there: with several workers on one request queue, each request is received once, by the
   * worker holding its session, and a client learns within seconds when that worker is gone. Peers that
   * ignore the hint keep using the request queue (then set `releaseUnknownSessions`).
   * @default none (every message comes through the request queue)
   */
  inbox?: WorkerInboxOption;
  /**
   * For servers that keep nothing per session: any manager on the request queue answers any request of
   * any session, from a pool of started servers, and a request whose worker died comes back after its
   * visibility timeout for another to answer. No session is held, so `inbox` cannot be given with it
   * (`ConfigurationError`), and `maxSessions`, `sessionIdleTimeoutMs`, `releaseUnknownSessions` and the
   * session callbacks are not used. Resource subscriptions get a JSON-RPC error.
   * @default false
   */
  stateless?: boolean;
  /**
   * Binds each session to the SQS `SenderId` (the IAM identity the queue service says sent it) of the
   * message that opened it, and refuses that session's messages from any other sender: logged,
   * dead-lettered when `deadLetterQueueUrl` is set, else deleted. It needs nothing of the client, so it
   * guards Python clients' sessions too. Only for messages sent straight to SQS: through SNS, every
   * message's sender is SNS itself (`@asyncmcp/sns-sqs` does not offer it). A client whose credentials
   * change identity mid-session (another role session name) loses its session. Not with `stateless`.
   * @default false
   */
  bindSessionsToSender?: boolean;
  /** Name prefix of an inbox this manager creates. @default 'asyncmcp-worker-' */
  inboxQueueNamePrefix?: string;
  /**
   * While a request of a session that uses the inbox runs, the worker tells its client it is alive this
   * often; a client that hears nothing for three intervals while a request waits takes the session as
   * lost. @default 3
   */
  aliveIntervalSeconds?: number;
  /**
   * Most requests running at once; more wait (their visibility kept) up to 4 × this many received, then
   * receiving pauses. Notifications, such as cancellations, never wait behind them. @default 100
   */
  maxInFlight?: number;
  /** How long `close()` waits for running requests. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Size limit checked before sending to a client. @default the client queue's `MaximumMessageSize` */
  maxMessageBytes?: number;
  /**
   * Where each session's client is answered, and how. An extension point for transports built on this
   * manager (`@asyncmcp/sns-sqs` publishes to the topic named in `_meta.clientTopicArn`); such a channel
   * checks its own size limit, and `maxMessageBytes` is not used. With `signingSecret`, it must sign
   * what it sends with the same secret.
   * @default the SQS queue named in `_meta.responseQueueUrl`
   */
  replyChannel?: SqsReplyChannel;
  /**
   * What to do with SNS control messages on the request queue; an extension point like `replyChannel`.
   * @default log and delete them
   */
  onControlMessage?: SqsControlMessageHandler;
}
