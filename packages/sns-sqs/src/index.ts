/**
 * @asyncmcp/sns-sqs — MCP over Amazon SNS topics fanned out to SQS queues.
 *
 * This package is reserved and not implemented yet: it exports nothing. Its API is described in the
 * repository README and arrives in a later release.
 */
export {};
