import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/** One message a process sent with SQS `SendMessage` (or in a `SendMessageBatch`), as it went on the wire. */
export interface RecordedSend {
  queueUrl: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
}

/**
 * An HTTP proxy in front of the emulator that keeps a copy of every SQS message sent through it: what
 * an attacker who may read the queues sees. Processes pointed at it (`--endpoint-url`) make their queues
 * through it too, so the emulator names those queues by the proxy's address and every later call to
 * them passes here.
 */
export class RecordingProxy {
  readonly sent: RecordedSend[] = [];
  #server: Server | undefined;

  constructor(private readonly upstream: string) {}

  async start(): Promise<string> {
    const target = new URL(this.upstream);
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.#record(req, body);
        const outgoing = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        outgoing.on('error', (error) => {
          if (!res.headersSent) res.writeHead(502);
          res.end(String(error));
        });
        // A client that gives up (a long poll aborted on close) ends the call upstream too.
        res.on('close', () => {
          if (!res.writableFinished) outgoing.destroy();
        });
        outgoing.end(body);
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server?.address() as AddressInfo).port}`;
  }

  /** The sent messages whose JSON-RPC body satisfies `matches`. */
  find(matches: (rpc: Record<string, unknown>) => boolean): RecordedSend[] {
    return this.sent.filter((sent) => matches(JSON.parse(sent.body) as Record<string, unknown>));
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  #record(req: IncomingMessage, body: Buffer): void {
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string') return;
    const operation = target.slice(target.lastIndexOf('.') + 1);
    if (operation !== 'SendMessage' && operation !== 'SendMessageBatch') return;
    const input = JSON.parse(body.toString('utf8')) as {
      QueueUrl: string;
      MessageBody?: string;
      MessageAttributes?: Record<string, MessageAttributeValue>;
      Entries?: Array<{ MessageBody: string; MessageAttributes?: Record<string, MessageAttributeValue> }>;
    };
    const entries = input.Entries ?? [
      { MessageBody: input.MessageBody ?? '', MessageAttributes: input.MessageAttributes },
    ];
    for (const entry of entries) {
      this.sent.push({
        queueUrl: input.QueueUrl,
        body: entry.MessageBody,
        attributes: entry.MessageAttributes ?? {},
      });
    }
  }
}
