import { runQuickstart } from './quickstart.js';

const { sessionId, answer } = await runQuickstart(process.argv[2] ?? 'Lisbon');
console.log(`session ${sessionId}`);
console.log(answer);
