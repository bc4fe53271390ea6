import { WebhookSessionManager } from '@asyncmcp/webhook';
import { createBenchServer } from './bench-server.js';
import { ready } from './child-process.js';
import { startControl } from './control-server.js';

// The webhook path's server: it answers every client by POSTing to its webhook (all on loopback here).
const manager = new WebhookSessionManager({ createServer: createBenchServer, allowPrivateNetworks: true });
const url = await manager.listen({ port: 0, host: '127.0.0.1' });
const control = await startControl(() => ({}));
ready({ url, control });
process.once('SIGTERM', () => void manager.close().then(() => process.exit(0)));
