import type { LoadBalancer, LoadBalancerOptions } from './load-balancer-types.js';
import { DOCUMENTED_NGINX_CONFIG, findNginx, startNginx } from './nginx-load-balancer.js';
import { startNodeRoundRobin } from './node-load-balancer.js';

export type { LoadBalancer, LoadBalancerOptions } from './load-balancer-types.js';
export { DOCUMENTED_NGINX_CONFIG, deriveNginxServers, findNginx } from './nginx-load-balancer.js';

export async function startLoadBalancer(options: LoadBalancerOptions): Promise<LoadBalancer> {
  if (options.upstreams.length === 0) throw new Error('a load balancer needs at least one upstream');
  const nginx = options.prefer === 'node' ? undefined : findNginx();
  if (nginx === undefined) return startNodeRoundRobin(options.upstreams);
  return startNginx(nginx, options.upstreams, options.nginxConfig ?? DOCUMENTED_NGINX_CONFIG);
}
