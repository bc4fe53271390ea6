import { createBenchServer } from './bench-server.js';
import { serveSdkStreamableHttp } from './sdk-streamable-app.js';

// The synchronous reference: the same server over plain Streamable HTTP, as the SDK documents it.
await serveSdkStreamableHttp((transport) => createBenchServer().connect(transport));
