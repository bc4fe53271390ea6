/**
 * The AWS region a queue URL or an ARN names, so that a user who gives a queue or a topic need not give
 * its region again. Only real AWS region names are taken (`us-east-1`, `cn-north-1`, `us-gov-west-1` …),
 * never a word that merely sits where a region would.
 */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** `https://sqs.<region>.amazonaws.com/…` (and `.com.cn`, `api.aws`, emulators' `sqs.<region>.localhost`), or the legacy `https://<region>.queue.amazonaws.com/…`. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(queueUrl).hostname;
  } catch {
    return undefined;
  }
  // Only AWS's own hosts, and emulators' on localhost: a private host name is no evidence of a region.
  if (!/\.(amazonaws\.com|amazonaws\.com\.cn|api\.aws|localhost)$/.test(host)) return undefined;
  const labels = host.split('.');
  const candidate = labels[0] === 'sqs' ? labels[1] : labels[1] === 'queue' ? labels[0] : undefined;
  return candidate !== undefined && REGION.test(candidate) ? candidate : undefined;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`. */
export function regionOfArn(arn: string): string | undefined {
  const [prefix, , , region] = arn.split(':');
  return prefix === 'arn' && region !== undefined && REGION.test(region) ? region : undefined;
}

/** The region of the first of `resources` (queue URLs and ARNs, in order of authority) that names one. */
export function regionOfResources(resources: ReadonlyArray<string | undefined>): string | undefined {
  for (const resource of resources) {
    if (resource === undefined) continue;
    const region = resource.startsWith('arn:') ? regionOfArn(resource) : regionOfQueueUrl(resource);
    if (region !== undefined) return region;
  }
  return undefined;
}
