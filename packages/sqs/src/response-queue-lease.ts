import { ConfigurationError, describeError, type Logger } from '@asyncmcp/core';
import {
  DeleteQueueCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  type SQSClient,
  TagQueueCommand,
} from '@aws-sdk/client-sqs';

/**
 * How long a response queue a gateway instance made stays its own without word from it, and how often a
 * live instance says so. An instance that is killed cannot delete its queue; the next instance to start
 * deletes it once this lease has run out. One `TagQueue` per renewal: nothing beside the polling.
 */
export const RESPONSE_QUEUE_LEASE = {
  seconds: 900,
  /**
   * Renewals within one lease: a live instance renews every third of it, so its queue outlasts two
   * renewals that fail in a row.
   */
  renewalsPerLease: 3,
  /**
   * The shortest lease. Another instance judges a lease by its own clock, so a lease must outlast the
   * clocks' difference as well as a renewal's round trip.
   */
  minSeconds: 60,
  /** The longest: a week, which a killed instance's queue may outlive it by. */
  maxSeconds: 604_800,
} as const;

/** The tag that holds a made response queue's lease: Unix seconds until which its maker is alive. */
export const LEASE_TAG = 'asyncmcp:alive-until';

/**
 * The tag that names the kind of backend that made a response queue (`sqs`, `sns-sqs`): only that kind
 * knows what else it made beside the queue, so only that kind sweeps it.
 */
export const MADE_BY_TAG = 'asyncmcp:made-by';

/** Most leftover queues one start looks at: a start costs a bounded number of calls. */
const SWEEP_LIMIT = 100;

export interface ResponseQueueLeaseOptions {
  sqsClient: SQSClient;
  /** The name prefix of the queues gateways make (`asyncmcp-gateway-`). */
  namePrefix: string;
  /**
   * The kind of backend that makes the queue (`sqs`, `sns-sqs`), kept in its `MADE_BY_TAG`. A sweep
   * removes only leftovers of its own kind (and those made before the tag existed): a leftover of
   * another kind that shares the name prefix may have made more beside its queue (an SNS topic), which
   * only its own kind's `removeAlongside` removes.
   */
  madeBy: string;
  /**
   * Whole seconds, from `RESPONSE_QUEUE_LEASE.minSeconds` to `maxSeconds`. @default RESPONSE_QUEUE_LEASE.seconds (900)
   */
  leaseSeconds?: number;
  /**
   * At most half the lease, so that one renewal may fail. @default the lease over `RESPONSE_QUEUE_LEASE.renewalsPerLease`
   */
  renewEverySeconds?: number;
  logger: Logger;
  /** Unix milliseconds. @default Date.now */
  now?: () => number;
  /**
   * Removes what an instance made beside a leftover queue (an SNS topic, a subscription), before the
   * sweep deletes the queue. A failure keeps the queue, so the next instance to start tries again.
   */
  removeAlongside?: (leftover: LeftoverQueue) => Promise<void>;
}

/** A queue whose maker let its lease run out. */
export interface LeftoverQueue {
  queueUrl: string;
  /** The queue's name: the name its maker gave whatever else it made with it. */
  queueName: string;
}

/**
 * The lease on the response queue this instance made, and the sweep of the leases others let run out.
 * Only queues with the prefix AND the lease tag are ever deleted: a queue someone made by hand has no
 * tag, and a queue of a live instance has a lease in the future.
 */
export class ResponseQueueLease {
  readonly #options: ResponseQueueLeaseOptions;
  readonly #leaseSeconds: number;
  readonly #renewEverySeconds: number;
  #timer: NodeJS.Timeout | undefined;

  /** @throws ConfigurationError when the lease or its renewal is out of bounds. */
  constructor(options: ResponseQueueLeaseOptions) {
    this.#options = options;
    this.#leaseSeconds = leaseSecondsOf(options.leaseSeconds);
    this.#renewEverySeconds = renewEverySecondsOf(options.renewEverySeconds, this.#leaseSeconds);
  }

  /** The lease this instance keeps on its queue, in seconds. */
  get leaseSeconds(): number {
    return this.#leaseSeconds;
  }

  /** How often it renews the lease while it runs, in seconds. */
  get renewEverySeconds(): number {
    return this.#renewEverySeconds;
  }

  /** The tags a queue gets when it is made: its lease from now. */
  tags(): Record<string, string> {
    return { [LEASE_TAG]: String(this.#until()), [MADE_BY_TAG]: this.#options.madeBy };
  }

  /** Renews the lease of `queueUrl` from now on, until `stop()`. */
  keep(queueUrl: string): void {
    this.stop();
    this.#timer = setInterval(() => void this.#renew(queueUrl), this.#renewEverySeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Deletes the queues of instances whose lease ran out, `own` excepted; resolves with how many. Best
   * effort: a failure is logged and the sweep moves on.
   */
  async sweep(own: string): Promise<number> {
    const { sqsClient, namePrefix, logger } = this.#options;
    let urls: string[];
    try {
      const listed = await sqsClient.send(
        new ListQueuesCommand({ QueueNamePrefix: namePrefix, MaxResults: SWEEP_LIMIT }),
      );
      urls = (listed.QueueUrls ?? []).filter((url) => url !== own);
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'could not list leftover response queues');
      return 0;
    }
    const now = Math.floor(this.#now() / 1000);
    let deleted = 0;
    for (const queueUrl of urls) {
      try {
        const { Tags } = await sqsClient.send(new ListQueueTagsCommand({ QueueUrl: queueUrl }));
        const until = Number(Tags?.[LEASE_TAG]);
        if (!Number.isFinite(until) || until >= now) continue;
        const madeBy = Tags?.[MADE_BY_TAG];
        if (madeBy !== undefined && madeBy !== this.#options.madeBy) continue;
        await this.#options.removeAlongside?.({
          queueUrl,
          queueName: queueUrl.slice(queueUrl.lastIndexOf('/') + 1),
        });
        await sqsClient.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
        deleted++;
        logger.info(
          { responseQueueUrl: queueUrl, expiredAt: new Date(until * 1000).toISOString() },
          'deleted the response queue of a gateway instance that stopped without removing it',
        );
      } catch (error) {
        logger.warn(
          { responseQueueUrl: queueUrl, err: describeError(error) },
          'could not sweep a response queue',
        );
      }
    }
    return deleted;
  }

  async #renew(queueUrl: string): Promise<void> {
    try {
      await this.#options.sqsClient.send(new TagQueueCommand({ QueueUrl: queueUrl, Tags: this.tags() }));
    } catch (error) {
      this.#options.logger.warn(
        { responseQueueUrl: queueUrl, err: describeError(error) },
        'could not renew the response queue lease',
      );
    }
  }

  #until(): number {
    return Math.floor(this.#now() / 1000) + this.#leaseSeconds;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

function leaseSecondsOf(given: number | undefined): number {
  const { seconds, minSeconds, maxSeconds } = RESPONSE_QUEUE_LEASE;
  const lease = given ?? seconds;
  if (!Number.isInteger(lease) || lease < minSeconds || lease > maxSeconds) {
    throw new ConfigurationError(
      `The response queue lease must be a whole number of seconds from ${minSeconds} to ${maxSeconds}, not ${lease}: another instance judges a lease by its own clock, so a shorter one could have a live instance's queue deleted`,
    );
  }
  return lease;
}

function renewEverySecondsOf(given: number | undefined, leaseSeconds: number): number {
  if (given === undefined) return leaseSeconds / RESPONSE_QUEUE_LEASE.renewalsPerLease;
  if (!(given > 0 && given <= leaseSeconds / 2)) {
    throw new ConfigurationError(
      `The response queue lease's renewal must be more than 0 and at most ${leaseSeconds / 2} s (half the ${leaseSeconds} s lease, so that one failed renewal does not let it run out), not ${given} s`,
    );
  }
  return given;
}
