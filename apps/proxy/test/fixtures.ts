import { fileURLToPath } from 'node:url';

// The stdio MCP servers the end-to-end tests put behind `asyncmcp-proxy serve`, named once for every file.

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** `echo`, `worker` (the pid of the serve process running it), `hold`, and `wait_release` held until `release`. */
export const WORKER_SERVER = fixture('worker-server.mjs');

/** `hold` runs until cancelled and says "hold started <tag>" (and "hold cancelled <tag>") on stderr; `echo`. */
export const CANCEL_SERVER = fixture('cancel-server.mjs');
