import { setTimeout as delay } from 'node:timers/promises';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';

/** A 1×1 red pixel (PNG). */
export const RED_PIXEL_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
/** One sample of silence (WAV, 8 kHz mono 16-bit PCM). */
export const SILENT_WAV_BASE64 = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==';

/** What a request handler is given besides its arguments: the call's signal, stream and ids. */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** A short wait between a tool's steps, so each notification goes out on its own; ends on cancel. */
export const pause = (extra: Extra) => delay(50, undefined, { signal: extra.signal });
