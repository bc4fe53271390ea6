import { randomBytes } from 'node:crypto';
import { askForecast } from './weather-client.js';
import { startWeatherServer } from './weather-server.js';

/**
 * Everything on one machine: the weather server on a loopback port, and a client with its own webhook
 * receiver on another. Both sides sign what they send with one shared secret and check what they get.
 */
export async function runDemo(city: string): Promise<Awaited<ReturnType<typeof askForecast>>> {
  const signingSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const { manager, url } = await startWeatherServer({ port: 0, signingSecret });
  try {
    return await askForecast({ serverUrl: url, city, signingSecret });
  } finally {
    await manager.close();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const { sessionId, tools, answer, progress } = await runDemo(process.argv[2] ?? 'Lisbon');
  console.log(`session:  ${sessionId}`);
  console.log(`tools:    ${tools.join(', ')}`);
  console.log(`progress: ${progress.join(', ')}`);
  console.log(`forecast: ${answer}`);
}
