export { type SqsEmulator, startSqsEmulator } from './sqs-emulator.js';
