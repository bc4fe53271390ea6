import { askForecast } from './weather-client.js';

// SERVER_URL: the server's endpoint (default http://127.0.0.1:8000/mcp/request); WEBHOOK_SECRET as the server's.
const { sessionId, answer } = await askForecast({
  serverUrl: process.env.SERVER_URL ?? 'http://127.0.0.1:8000/mcp/request',
  city: process.argv[2] ?? 'Lisbon',
  signingSecret: process.env.WEBHOOK_SECRET,
});
console.log(`session ${sessionId}: ${answer}`);
