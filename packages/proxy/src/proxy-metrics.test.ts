import type { Backend } from '@asyncmcp/core';
import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from './proxy-metrics.js';

describe('ProxyMetrics', () => {
  it("gives every session's bridge the same observer, which counts for all of them", async () => {
    const metrics = new ProxyMetrics({ name: 'test' } as Backend, { defaultMetrics: false });
    const observer = metrics.observer();
    expect(metrics.observer()).toBe(observer);
    observer.onRequestEnd?.('tools/call', 'answered', 0.01);
    metrics.observer().onRequestEnd?.('tools/call', 'answered', 0.02);
    observer.onDropped?.('late answer');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/asyncmcp_gateway_requests_total\{method="tools\/call",outcome="answered"\} 2/);
    expect(text).toMatch(/asyncmcp_gateway_dropped_messages_total\{reason="late answer"\} 1/);
  });
});
