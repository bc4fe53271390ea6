import type {
  Disposition,
  JSONRPCMessage,
  JSONRPCRequest,
  MessageAttributes,
  QueueMessage,
} from '@asyncmcp/core';
import type { DestinationScope } from './response-destinations.js';
import type { UnwrappedBody } from './sns-envelope.js';

/**
 * The extension points of this package. Every transport here READS an SQS queue; what differs between
 * SQS and SNS+SQS (`@asyncmcp/sns-sqs`) is only how messages are SENT and how `initialize` names where
 * to answer. A channel is that difference: the SQS transports use the queue channels below by default,
 * and a transport that publishes somewhere else passes its own, keeping the polling, handshake,
 * delivery semantics and gateway correlation of this package.
 */

/** One message on its way out, encoded once by the transport; a channel only puts it on the wire. */
export interface OutboundMessage {
  /** The message as it goes on the wire (`initialize` already carries the channel's `_meta`). */
  readonly message: JSONRPCMessage;
  /** `encodeMessage(message)`: compact JSON with the characters SQS refuses escaped. */
  readonly body: string;
  /** The protocol attributes (PROTOCOL.md §1) plus any custom ones. */
  readonly attributes: MessageAttributes;
  /** The FIFO message group: the session id, or the client id before a session exists. */
  readonly groupId: string;
}

/**
 * Client side: how a client's messages reach the server, and the `_meta` entries by which `initialize`
 * names where the server should answer. Answers are read from the client's SQS queue either way.
 */
export interface SqsRequestChannel {
  /** Merged into `initialize`'s `params._meta`, e.g. `{ responseQueueUrl }` or `{ clientTopicArn }`. */
  readonly meta: Readonly<Record<string, string>>;
  /**
   * Puts one message on the wire. Rejects with a `MessageTooLargeError` before sending anything when the
   * message is over the channel's limit, and with a `DeliveryError` when the channel refuses it.
   */
  send(outbound: OutboundMessage): Promise<void>;
}

/**
 * Server side: where a session's client is answered (read once, from its `initialize`) and how.
 */
export interface SqsReplyChannel {
  /** What `addressOf` reads, for the error when `initialize` lacks it, e.g. `_meta.responseQueueUrl`. */
  readonly addressDescription: string;
  /** The address of a new session's client, read from its `initialize`; undefined when missing. */
  addressOf(initialize: JSONRPCRequest, attributes: Readonly<Record<string, string>>): string | undefined;
  /**
   * Why the manager must not send to an address a message named (PROTOCOL.md §8, "Destinations");
   * undefined when it may. @default the SQS rule: a queue on the request queue's endpoint and account
   */
  destinationRefusal?(scope: DestinationScope, address: string): string | undefined;
  /**
   * Sends one message to the client at `address`. Reject with a `MessageTooLargeError` for an oversize
   * message: an oversize answer then reaches the requester as a JSON-RPC error instead.
   */
  send(outbound: OutboundMessage, address: string): Promise<void>;
}

/** What a gateway backend's channel opened: the queue answers come back on, and how to name it. */
export interface SqsBackendChannelEndpoint {
  /** The one SQS queue the backend polls for every session's answers. */
  readonly responseQueueUrl: string;
  /** Merged into every forwarded `initialize`'s `params._meta`. */
  readonly meta: Readonly<Record<string, string>>;
}

/**
 * Gateway side: a request channel whose answer side the backend may have to make first (a queue, or a
 * topic with a queue subscribed to it) and remove again when it closes.
 */
export interface SqsBackendChannel {
  /**
   * Makes what is missing and says which queue to poll. Called before the first session; called again
   * after a failure, so it must continue from what already exists.
   */
  open(): Promise<SqsBackendChannelEndpoint>;
  /**
   * Makes again what `open()` made, under the same names (so the address every worker holds stays
   * right), after the queue it polls was found gone: the queue service lost its state, or someone
   * deleted it. Resolves at once when `open()` made nothing. Absent: nothing is made again.
   */
  remake?(): Promise<void>;
  /** Puts one message on the servers' inbound channel; the same rules as `SqsRequestChannel.send`. */
  send(outbound: OutboundMessage): Promise<void>;
  /** Resolves when the servers' inbound channel can be reached; rejects with the reason otherwise. */
  checkReady(): Promise<void>;
  /**
   * The session id proposed on a gateway session's `initialize`: a fresh secret, never derived from the
   * gateway's own key for the session (its HTTP session id). @default a random id (`generateSessionId`)
   */
  proposeSessionId?(): string;
  /** Removes what `open()` made. Called once, after polling has stopped; must not throw. */
  close(): Promise<void>;
}

/** An SNS control message read from a queue (PROTOCOL.md §2): a subscription or unsubscribe confirmation. */
export type SqsControlMessage = Exclude<UnwrappedBody, { kind: 'message' }>;

/**
 * Receive side: what a transport does with an SNS control message found on the queue it reads. Resolves
 * with the message's disposition: `delete` once it is handled, `retry` to leave it for another attempt
 * after its visibility timeout. A rejection counts as `retry`. @default log it and delete it
 */
export type SqsControlMessageHandler = (
  control: SqsControlMessage,
  queued: QueueMessage,
) => Promise<Disposition>;
