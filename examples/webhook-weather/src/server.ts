import { startWeatherServer } from './weather-server.js';

// PORT (default 8000) and HOST (default 127.0.0.1); WEBHOOK_SECRET turns signing on.
const { manager, url } = await startWeatherServer({
  port: Number(process.env.PORT ?? 8000),
  host: process.env.HOST,
  signingSecret: process.env.WEBHOOK_SECRET,
});
console.error(`[server] serving ${url}; Ctrl-C to stop`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void manager.close().then(() => process.exit(0)));
}
