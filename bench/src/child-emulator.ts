import { startFauxqs } from 'fauxqs';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

// The SQS emulator in a process of its own, so its CPU does not count against the paths measured.
const server = await startFauxqs({ port: 0, logger: false });
const control = await startControl(() => ({}));
ready({ endpoint: `http://127.0.0.1:${server.port}`, control });
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
