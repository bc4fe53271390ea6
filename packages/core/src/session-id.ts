import { randomUUID } from 'node:crypto';

export type SessionIdFormat = 'hex' | 'uuid';

/**
 * Mints a session id: 32 lowercase hex characters (`hex`, what SQS and SNS servers use) or a dashed
 * UUID (`uuid`, what webhook servers use).
 */
export function generateSessionId(format: SessionIdFormat = 'hex'): string {
  const uuid = randomUUID();
  return format === 'uuid' ? uuid : uuid.replaceAll('-', '');
}

/** The longest session id we accept; PROTOCOL.md allows any length, a bound keeps memory safe. */
export const MAX_SESSION_ID_LENGTH = 256;

const VISIBLE_ASCII = /^[\x21-\x7E]+$/;

/** A valid session id is 1+ visible ASCII characters (0x21–0x7E). */
export function isValidSessionId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= MAX_SESSION_ID_LENGTH && VISIBLE_ASCII.test(id);
}

/** The id a new session takes: the one its client proposed, when that is a valid id, else a fresh one. */
export function sessionIdFor(proposed: string | undefined, format: SessionIdFormat = 'hex'): string {
  return proposed !== undefined && isValidSessionId(proposed) ? proposed : generateSessionId(format);
}
