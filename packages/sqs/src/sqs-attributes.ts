import { Attribute, byteLength, type MessageAttributes } from '@asyncmcp/core';

/**
 * Core's flat attribute maps in the spelling of the AWS wire (PROTOCOL.md §1–§2). SQS message attributes
 * and SNS publish attributes are both `{ DataType, StringValue }`; an SNS envelope read from a queue
 * spells them `{ Type, Value }`. Every transport of this package and of `@asyncmcp/sns-sqs` converts here,
 * at its edge, so the rest of the code sees plain `name → value` maps.
 */

/** One attribute as SQS `SendMessage` and SNS `Publish` take it. */
export interface SqsMessageAttribute {
  DataType: 'String' | 'Number';
  StringValue: string;
}

/** Attributes as SQS and SNS take them. */
export type SqsMessageAttributes = Record<string, SqsMessageAttribute>;

/** An attribute as it is received: SQS `{ DataType, StringValue }`, or an SNS envelope's `{ Type, Value }`. */
export type ReceivedSqsAttributes = Record<
  string,
  {
    DataType?: string | undefined;
    StringValue?: string | undefined;
    Type?: string | undefined;
    Value?: string | undefined;
  }
>;

/** The protocol sends `Timestamp` as a Number; every other attribute is a String. */
function dataTypeOf(name: string): SqsMessageAttribute['DataType'] {
  return name === Attribute.Timestamp ? 'Number' : 'String';
}

/** Flat attributes in the `{ DataType, StringValue }` shape SQS and SNS take on send. */
export function toSqsAttributes(attributes: Readonly<MessageAttributes>): SqsMessageAttributes {
  const spelled: SqsMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    spelled[name] = { DataType: dataTypeOf(name), StringValue: value };
  }
  return spelled;
}

/**
 * Received attributes as a flat map. `StringValue` wins over `Value`; attributes without a string value
 * (binary ones) are left out, as no part of the protocol uses them.
 */
export function fromSqsAttributes(attributes: ReceivedSqsAttributes | undefined): MessageAttributes {
  const flat: MessageAttributes = {};
  if (!attributes) return flat;
  for (const [name, attribute] of Object.entries(attributes)) {
    const value = attribute?.StringValue ?? attribute?.Value;
    if (typeof value === 'string') flat[name] = value;
  }
  return flat;
}

/** SQS (and SNS) count a message's size as its body plus every attribute's name, type and value. */
export function sqsMessageSize(body: string, attributes: Readonly<MessageAttributes>): number {
  let size = byteLength(body);
  for (const [name, value] of Object.entries(attributes)) {
    size += byteLength(name) + byteLength(dataTypeOf(name)) + byteLength(value);
  }
  return size;
}
