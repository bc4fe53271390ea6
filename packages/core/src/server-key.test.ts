import { describe, expect, it } from 'vitest';
import { RequestMetaKey } from './meta.js';
import { initializeKeyOf, requestKeyOf, serverKeyId } from './server-key.js';
import { initializeRequest, statelessRequest } from './testing/stateless-harness.js';

describe('server keys', () => {
  it('reads the key of an initialize and of a stateless request alike', () => {
    const fromInitialize = initializeKeyOf(initializeRequest());
    const fromRequest = requestKeyOf(statelessRequest(1, 'tools/list'));
    if (!fromInitialize.ok || !fromRequest.ok) throw new Error('expected keys');
    expect(fromRequest.key).toEqual(fromInitialize.key);
    expect(serverKeyId(fromRequest.key)).toBe(serverKeyId(fromInitialize.key));
  });

  it('names every missing _meta entry at once', () => {
    const read = requestKeyOf(statelessRequest(1, 'tools/list', {}, { omit: Object.values(RequestMetaKey) }));
    expect(read).toEqual({
      ok: false,
      problem:
        'tools/list is missing _meta["io.modelcontextprotocol/protocolVersion"], ' +
        '_meta["io.modelcontextprotocol/clientCapabilities"], _meta["io.modelcontextprotocol/clientInfo"]; ' +
        'a stateless server needs them on every request',
    });
  });

  it('refuses what the SDK would refuse in initialize params', () => {
    const request = initializeRequest();
    const read = initializeKeyOf({ ...request, params: { ...request.params, capabilities: 'all' } });
    expect(read.ok).toBe(false);
    expect(!read.ok && read.problem).toMatch(/^invalid initialize params\.capabilities: /);
  });

  it('keeps fields a newer client added, and ignores the order of members', () => {
    const clientInfo = { version: '1', name: 'c', title: 'C' };
    const a = { protocolVersion: 'v', capabilities: { experimental: { x: { b: 1, a: 2 } } }, clientInfo };
    const b = {
      protocolVersion: 'v',
      capabilities: { experimental: { x: { a: 2, b: 1 } } },
      clientInfo: { ...clientInfo },
    };
    expect(serverKeyId(a)).toBe(serverKeyId(b));
    expect(serverKeyId(a)).not.toBe(serverKeyId({ ...a, protocolVersion: 'w' }));
    const read = requestKeyOf(
      statelessRequest(1, 'ping', {}, { meta: { [RequestMetaKey.ClientInfo]: clientInfo } }),
    );
    expect(read.ok && read.key.clientInfo).toEqual(clientInfo);
  });
});
