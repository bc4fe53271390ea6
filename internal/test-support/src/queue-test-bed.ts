import { type Cleanup, cleanupsAfterEach } from './cleanups.js';
import { type SqsEmulator, useSqsEmulator } from './sqs-emulator.js';

/**
 * What a file (or `describe`) of queue tests sets up first: one emulator its tests share, and the
 * cleanups run after each test. Call it at the top level of the file or `describe`.
 */
export function useQueueTestBed(): { emulator: SqsEmulator; cleanups: Cleanup[] } {
  return { emulator: useSqsEmulator(), cleanups: cleanupsAfterEach() };
}
