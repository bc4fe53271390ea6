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
  readonly #stampSenders: boolean;
  readonly #senders = new Map<string, { promise: Promise<string>; resolve: (sender: string) => void }>();

  /**
   * With `stampSenders`, each received message's `SenderId` names the access key that sent it, as SQS
   * names the sender's identity (the emulator answers one constant for every sender).
   */
  constructor(
    private readonly upstream: string,
    options: { stampSenders?: boolean } = {},
  ) {
    this.#stampSenders = options.stampSenders ?? false;
  }

  async start(): Promise<string> {
    const target = new URL(this.upstream);
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const operation = this.#record(req, body);
        const outgoing = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            if (operation === undefined) {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
              return;
            }
            const parts: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => parts.push(chunk));
            answer.on('end', () => {
              void this.#answer(operation, req, Buffer.concat(parts)).then((text) => {
                const headers = { ...answer.headers, 'content-length': String(Buffer.byteLength(text)) };
                res.writeHead(answer.statusCode ?? 502, headers);
                res.end(text);
              });
            });
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

  /** Keeps a copy of what is sent; says which operation's answer must be looked at. */
  #record(req: IncomingMessage, body: Buffer): 'send' | 'receive' | undefined {
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string') return undefined;
    const operation = target.slice(target.lastIndexOf('.') + 1);
    if (operation === 'ReceiveMessage') return this.#stampSenders ? 'receive' : undefined;
    if (operation !== 'SendMessage' && operation !== 'SendMessageBatch') return undefined;
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
    return this.#stampSenders ? 'send' : undefined;
  }

  /** What the emulator answered, with each received message's `SenderId` set as SQS would set it. */
  async #answer(operation: 'send' | 'receive', req: IncomingMessage, answer: Buffer): Promise<string> {
    const text = answer.toString('utf8');
    const output = JSON.parse(text) as {
      MessageId?: string;
      Successful?: Array<{ MessageId?: string }>;
      Messages?: Array<{ MessageId?: string; Attributes?: Record<string, string> }>;
    };
    if (operation === 'send') {
      // SQS names the sender by the credentials that signed the call: the access key, here.
      const sender = /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? 'anonymous';
      for (const id of [output.MessageId, ...(output.Successful ?? []).map((entry) => entry.MessageId)]) {
        if (id !== undefined) this.#senderOf(id).resolve(sender);
      }
      return text;
    }
    for (const message of output.Messages ?? []) {
      // A message can be received before its sender has its answer: wait for that (bounded).
      const sender = await Promise.race([
        this.#senderOf(message.MessageId ?? '').promise,
        new Promise<string>((resolve) => setTimeout(() => resolve('unknown'), 20_000).unref()),
      ]);
      message.Attributes = { ...message.Attributes, SenderId: sender };
    }
    return JSON.stringify(output);
  }

  #senderOf(messageId: string): { promise: Promise<string>; resolve: (sender: string) => void } {
    let entry = this.#senders.get(messageId);
    if (!entry) {
      let resolve!: (sender: string) => void;
      const promise = new Promise<string>((done) => {
        resolve = done;
      });
      entry = { promise, resolve };
      this.#senders.set(messageId, entry);
    }
    return entry;
  }
}
