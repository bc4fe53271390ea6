/** A real round-robin load balancer in front of HTTP upstreams, on a loopback port of its own. */
export interface LoadBalancer {
  /** Its origin (`http://127.0.0.1:<port>`): requests keep their path, so append the MCP path. */
  readonly url: string;
  readonly kind: 'nginx' | 'node';
  /**
   * How many finished requests each upstream answered, keyed by the upstream as given: shows that
   * requests were really spread. A request still streaming (an SSE GET) is not counted yet.
   */
  answeredBy(): Promise<Record<string, number>>;
  /** Stops it and removes what it wrote; safe to call twice. */
  stop(): Promise<void>;
}

export interface LoadBalancerOptions {
  /** `http://127.0.0.1:<port>` of each instance, tried in this order, round robin. */
  upstreams: readonly string[];
  /** nginx when installed (the default), else the Node proxy; `node` always uses the Node proxy. */
  prefer?: 'nginx' | 'node';
  /** The nginx config to derive the harness's from. @default DOCUMENTED_NGINX_CONFIG */
  nginxConfig?: string;
}
