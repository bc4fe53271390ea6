/**
 * Where a process's self time went, from a V8 CPU profile (`node --cpu-prof`), over a window of its
 * life: the profile covers start to exit, the window is the load being studied. Times are the sample
 * intervals attributed to the function on top of the stack.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of the busy time (idle excluded). */
  percent: number;
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  byPackage: SelfTime[];
  topFunctions: SelfTime[];
}

/** The package a script belongs to: a dependency, a workspace package, Node itself, or V8's own entries. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node (internals)';
  const path = url.replace(/^file:\/\//, '');
  const dependency = path.lastIndexOf('/node_modules/');
  if (dependency >= 0) {
    const [scope, name] = path.slice(dependency + '/node_modules/'.length).split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? path);
  }
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(path);
  if (workspace) return workspace[1] === 'apps' ? `apps/${workspace[2]}` : `@asyncmcp/${workspace[2]}`;
  if (path.includes('/bench/src/')) return 'bench';
  return path;
}

function ranked(times: Map<string, number>, busyMs: number, count: number): SelfTime[] {
  return [...times]
    .sort(([, a], [, b]) => b - a)
    .slice(0, count)
    .map(([name, ms]) => ({
      name,
      ms: Math.round(ms * 10) / 10,
      percent: Math.round((ms / busyMs) * 1000) / 10,
    }));
}

/** Self time in [fromUs, toUs] (the profile's monotonic clock, microseconds), by package and by function. */
export function summarizeProfile(
  profile: CpuProfile,
  window: { fromUs: number; toUs: number },
  top = 15,
): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyMs = 0;
  let time = profile.startTime;
  for (let index = 0; index < profile.samples.length; index++) {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    if (time < window.fromUs || time > window.toUs) continue;
    const frame = nodes.get(profile.samples[index] as number);
    if (!frame || frame.functionName === '(idle)') continue;
    const ms = delta / 1000;
    busyMs += ms;
    const owner = packageOf(frame.url, frame.functionName);
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + ms);
    // The package beside the file: a bundle's `dist/index.js` alone does not say whose it is.
    const where =
      frame.url === '' ? '' : ` (${owner}) ${frame.url.split('/').at(-1)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  return {
    windowMs: Math.round((window.toUs - window.fromUs) / 100) / 10,
    busyMs: Math.round(busyMs * 10) / 10,
    byPackage: ranked(byPackage, busyMs, top),
    topFunctions: ranked(byFunction, busyMs, top),
  };
}
