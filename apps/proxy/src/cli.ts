import { parseArgs } from 'node:util';

const HELP = `asyncmcp-proxy — the asyncmcp gateway

Usage:
  asyncmcp-proxy --help       show this help
  asyncmcp-proxy --version    print the version

The gateway's backends (sqs, sns-sqs, webhook, hybrid) are not available in this build yet.
`;

const VERSION = '0.0.0';

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    strict: true,
  });
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  process.stdout.write(HELP);
  return values.help ? 0 : 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`asyncmcp-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
