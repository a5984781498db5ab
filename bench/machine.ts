import os from 'node:os';

/** The machine a bench ran on, for its report header and JSON. */
export interface Machine {
  cpu: string;
  cpuCount: number;
  memoryGiB: number;
  os: string;
  node: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/** "AMD EPYC x 2, 23.5 GiB, Linux ... x64, Node v20..." */
export function describeMachine(m: Machine = machine()): string {
  return `${m.cpu} x ${m.cpuCount}, ${m.memoryGiB.toFixed(1)} GiB, ${m.os}, Node ${m.node}`;
}
