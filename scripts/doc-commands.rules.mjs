// How scripts/check-doc-commands.mjs treats a documented command: the first rule whose `match` fits wins;
// a command no rule fits must exit 0. `until`: a command that runs until stopped must print this first
// (then it is stopped, and must stop). `background`: the same, but it keeps running for the commands after
// it until its block ends. `skip`: not run, for the reason given, which the check prints.
export const RULES = [
  // What a fresh clone cannot have.
  { match: /amazonaws\.com|arn:aws[a-z-]*:/, run: 'skip', why: 'needs an AWS account' },
  {
    match: /^docker\b/,
    run: 'skip',
    why: "needs a Docker engine; the image's settings precedence is tested by apps/proxy/test/dockerfile.test.ts",
  },
  {
    match: /\.internal\b|build\/server\.js|whsec_…/,
    run: 'skip',
    why: "names the reader's own server, hosts or secret",
  },
  // The suite itself, and what runs for minutes or asks questions.
  { match: /pnpm(@[\d.]+)? test( |$)/, run: 'skip', why: 'the test suite: CI runs it' },
  { match: /pnpm(@[\d.]+)? test:stress/, run: 'skip', why: 'runs the suite four times: half an hour' },
  { match: /pnpm(@[\d.]+)? changeset$/, run: 'skip', why: 'asks questions' },
  {
    match: /pnpm(@[\d.]+)? bench( --sessions| --only|$)/,
    run: 'skip',
    why: 'a measurement of minutes; pnpm bench --quick runs',
  },
  {
    match: /@modelcontextprotocol\/(inspector|conformance)|node_modules\/@modelcontextprotocol\/conformance/,
    run: 'skip',
    why: 'needs the server of the command before it running; the tests run these clients against it',
  },
  // Servers: they must come up and say so.
  {
    match: /(pnpm(@[\d.]+)? (start|demo)|asyncmcp-proxy demo|--filter asyncmcp-proxy demo)\b/,
    run: 'until',
    until: 'MCP endpoint:',
  },
  { match: /everything-server start$/, run: 'until', until: 'MCP over Streamable HTTP at' },
  // A server alone, for the client of the next command: it runs until the end of its block.
  { match: /-weather (run )?server$/, run: 'background', until: '[server] serving' },
  { match: /everything-server start:stdio$/, run: 'exit-0' },
  {
    match: /asyncmcp-proxy --backend (webhook|hybrid) --server-url http:\/\/127\.0\.0\.1/,
    run: 'until',
    until: 'gateway listening',
  },
];
