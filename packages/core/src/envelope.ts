import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { isAnswer, isNotification, isRequest } from './codec.js';
import { ConfigurationError } from './errors.js';

/**
 * The message-attribute envelope of PROTOCOL.md §1–§2, as flat `name → string` maps: what a channel
 * carries beside the body (queue message attributes, HTTP headers, record headers). Each transport
 * spells them its own way at its edge; core never sees a channel's attribute shape.
 */

export const Attribute = {
  MessageType: 'MessageType',
  Timestamp: 'Timestamp',
  RequestId: 'RequestId',
  Method: 'Method',
  SessionId: 'SessionId',
  ClientId: 'ClientId',
  ProtocolVersion: 'ProtocolVersion',
  /**
   * Ours, optional: on a server→client message, the id of the client request it belongs to (progress,
   * logging, sampling during a tool call). Peers that do not know it ignore it.
   */
  RelatedRequestId: 'RelatedRequestId',
} as const;
export type AttributeName = (typeof Attribute)[keyof typeof Attribute];

/** The value of `MessageType` on every message we send. */
export const MESSAGE_TYPE_JSONRPC = 'jsonrpc';

/** SQS (and SNS) accept at most this many message attributes. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

const RESERVED = new Set<string>(Object.values(Attribute));

/** A message's attributes, name → value. */
export type MessageAttributes = Record<string, string>;

export interface ClientAttributesInput {
  message: JSONRPCMessage;
  clientId: string;
  sessionId?: string | undefined;
  protocolVersion?: string | undefined;
  custom?: Readonly<Record<string, string>> | undefined;
  /** Unix time in milliseconds; defaults to now. */
  now?: number;
}

/** Attributes on a client→server message. */
export function buildClientAttributes(input: ClientAttributesInput): MessageAttributes {
  const attributes = baseAttributes(input.message, input.now);
  attributes[Attribute.ClientId] = input.clientId;
  if (input.sessionId !== undefined) attributes[Attribute.SessionId] = input.sessionId;
  if (input.protocolVersion !== undefined) attributes[Attribute.ProtocolVersion] = input.protocolVersion;
  if (input.custom) {
    for (const [name, value] of Object.entries(input.custom)) {
      if (!RESERVED.has(name)) attributes[name] = value;
    }
  }
  return attributes;
}

/** Attributes on a server→client message: the session id always. */
export function buildServerAttributes(input: {
  message: JSONRPCMessage;
  sessionId: string;
  relatedRequestId?: RequestId | undefined;
  now?: number;
}): MessageAttributes {
  const attributes = baseAttributes(input.message, input.now);
  attributes[Attribute.SessionId] = input.sessionId;
  if (input.relatedRequestId !== undefined && !isAnswer(input.message)) {
    attributes[Attribute.RelatedRequestId] = String(input.relatedRequestId);
  }
  return attributes;
}

function baseAttributes(message: JSONRPCMessage, now = Date.now()): MessageAttributes {
  const attributes: MessageAttributes = {
    [Attribute.MessageType]: MESSAGE_TYPE_JSONRPC,
    [Attribute.Timestamp]: String(Math.floor(now / 1000)),
  };
  if (isRequest(message)) {
    attributes[Attribute.RequestId] = String(message.id);
    attributes[Attribute.Method] = message.method;
  } else if (isNotification(message)) {
    attributes[Attribute.Method] = message.method;
  }
  return attributes;
}

/** The most attributes a client message can carry of its own (all of §1 set at once). */
export const CLIENT_RESERVED_ATTRIBUTE_COUNT = 7;

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;

/**
 * Checks user-supplied custom attributes once, at configuration time: they may not reuse a protocol
 * name, must fit in what the 10-attribute budget leaves, and must be names SQS accepts.
 */
export function validateCustomAttributes(
  custom: Readonly<Record<string, string>> | undefined,
  reservedCount = CLIENT_RESERVED_ATTRIBUTE_COUNT,
): void {
  if (!custom) return;
  const names = Object.keys(custom);
  for (const name of names) {
    if (RESERVED.has(name)) {
      throw new ConfigurationError(`Custom message attribute "${name}" would overwrite a protocol attribute`);
    }
    if (
      !ATTRIBUTE_NAME.test(name) ||
      /^(aws\.|amazon\.)/i.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.')
    ) {
      throw new ConfigurationError(
        `Custom message attribute name "${name}" is not a valid SQS attribute name`,
      );
    }
    if (typeof custom[name] !== 'string' || custom[name] === '') {
      throw new ConfigurationError(`Custom message attribute "${name}" must be a non-empty string`);
    }
  }
  const budget = MAX_MESSAGE_ATTRIBUTES - reservedCount;
  if (names.length > budget) {
    throw new ConfigurationError(
      `${names.length} custom message attributes given, but only ${budget} fit beside the protocol's own (limit ${MAX_MESSAGE_ATTRIBUTES})`,
    );
  }
}

/** The protocol attributes of a received message, read back. */
export interface EnvelopeFields {
  messageType?: string;
  sessionId?: string;
  clientId?: string;
  protocolVersion?: string;
  method?: string;
  requestId?: string;
  relatedRequestId?: string;
  timestamp?: number;
}

export function readEnvelope(flat: Readonly<Record<string, string>>): EnvelopeFields {
  const fields: EnvelopeFields = {};
  if (flat.MessageType !== undefined) fields.messageType = flat.MessageType;
  if (flat.SessionId !== undefined) fields.sessionId = flat.SessionId;
  if (flat.ClientId !== undefined) fields.clientId = flat.ClientId;
  if (flat.ProtocolVersion !== undefined) fields.protocolVersion = flat.ProtocolVersion;
  if (flat.Method !== undefined) fields.method = flat.Method;
  if (flat.RequestId !== undefined) fields.requestId = flat.RequestId;
  if (flat.RelatedRequestId !== undefined) fields.relatedRequestId = flat.RelatedRequestId;
  if (flat.Timestamp !== undefined && Number.isFinite(Number(flat.Timestamp)))
    fields.timestamp = Number(flat.Timestamp);
  return fields;
}
