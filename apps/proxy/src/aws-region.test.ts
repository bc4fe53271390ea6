import { describe, expect, it } from 'vitest';
import { regionOfArn, regionOfQueueUrl, regionOfResources } from './aws-region.js';

describe('the region a queue URL or an ARN names', () => {
  it.each([
    ['https://sqs.us-east-1.amazonaws.com/123456789012/mcp-requests', 'us-east-1'],
    ['https://sqs.eu-central-2.amazonaws.com/123456789012/q.fifo', 'eu-central-2'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', 'cn-north-1'],
    ['https://sqs.us-gov-west-1.amazonaws.com/123456789012/q', 'us-gov-west-1'],
    ['https://sqs.ap-southeast-4.api.aws/123456789012/q', 'ap-southeast-4'],
    ['https://us-west-2.queue.amazonaws.com/123456789012/q', 'us-west-2'],
    ['http://sqs.us-east-1.localhost:4566/000000000000/q', 'us-east-1'],
  ])('%s → %s', (url, region) => {
    expect(regionOfQueueUrl(url)).toBe(region);
  });

  it.each([
    'http://127.0.0.1:4566/000000000000/q',
    'https://queue.amazonaws.com/123456789012/q',
    'https://sqs.amazonaws.com/123456789012/q',
    'https://sqs.localhost/123/q',
    'https://sqs.my-host-1.example.com/123456789012/q',
    'https://sqs.ci-runner-2.corp/123456789012/q',
    'not a url',
  ])('%s names no region', (url) => {
    expect(regionOfQueueUrl(url)).toBeUndefined();
  });

  it('reads an ARN', () => {
    expect(regionOfArn('arn:aws:sns:eu-west-1:123456789012:mcp-requests')).toBe('eu-west-1');
    expect(regionOfArn('arn:aws-cn:sns:cn-northwest-1:123456789012:t.fifo')).toBe('cn-northwest-1');
    expect(regionOfArn('arn:aws:sns::123456789012:t')).toBeUndefined();
    expect(regionOfArn('sns:eu-west-1')).toBeUndefined();
  });

  it('takes the first resource that names a region', () => {
    expect(
      regionOfResources([
        undefined,
        'http://127.0.0.1:4566/000000000000/q',
        'arn:aws:sns:ap-south-1:123456789012:t',
        'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      ]),
    ).toBe('ap-south-1');
    expect(regionOfResources([undefined])).toBeUndefined();
  });
});
