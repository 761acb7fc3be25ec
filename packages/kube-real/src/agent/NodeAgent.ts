import { ApiClient } from './ApiClient';
import { loopbackNodeIp } from './loopbackAddresses';
import { NodeRegistration } from './NodeRegistration';
import { PodDriver } from './PodDriver';

export interface NodeAgentOptions {
  /** Kubeconfig YAML of a user that may write nodes, leases, pods' status and events. */
  kubeconfig: string;
  /** Node names, or how many `kube-real-node-N` nodes; default 1. */
  nodes?: string[] | number;
  /** 1 = real seconds (default); 0.05 = the pod lifecycle twenty times faster. Heartbeats stay real. */
  timeScale?: number;
  log?: (line: string) => void;
  /** How long to wait for the nodes to become schedulable; default 60 s. */
  readyTimeoutMs?: number;
}

export interface NodeAgent {
  nodes: string[];
  stop(): Promise<void>;
}

/**
 * A KWOK-style node agent for a real API server: registers simulated nodes, keeps their leases
 * fresh, and runs kube-sim's pod lifecycle for the pods the real scheduler binds to them.
 */
export async function startNodeAgent(
  options: NodeAgentOptions,
): Promise<NodeAgent> {
  const log = options.log ?? (() => {});
  const api = ApiClient.fromKubeconfig(options.kubeconfig);
  const names =
    typeof options.nodes === 'number' || options.nodes === undefined
      ? Array.from(
          { length: options.nodes ?? 1 },
          (_, i) => `kube-real-node-${i + 1}`,
        )
      : options.nodes;
  const scale = options.timeScale ?? 1;
  const registrations = names.map(
    (n, i) => new NodeRegistration(api, n, loopbackNodeIp(i), log),
  );
  const driver = new PodDriver(
    api,
    new Map(registrations.map(r => [r.name, r.ip])),
    seconds => seconds * 1000 * scale,
    log,
  );
  const stop = async () => {
    registrations.forEach(r => r.stop());
    await driver.stop();
  };
  try {
    for (const r of registrations) await r.register();
    driver.start();
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (const r of registrations) {
      while (!(await r.schedulable())) {
        if (Date.now() > deadline)
          throw new Error(
            `kube-real agent: node ${r.name} still tainted not-ready`,
          );
        await new Promise(res => setTimeout(res, 250));
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes: names, stop };
}
