import { ResourceType } from '../api/resources';

/**
 * Defaulting as kube-apiserver does it on write, for the fields clients read back (kubectl apply's
 * three-way merge and `rollout undo` compare against defaulted objects on a real cluster too).
 */

let nextClusterIp = 10;
let nextPodIp = 10;

/**
 * Simulated addresses are loopback ones (127.244.x.y for pods, 127.96.x.y for Services), never a
 * private range: nothing on this machine may ever connect to a 10.x address, even one that a
 * simulated object reports.
 */
export function allocatePodIp(): string {
  const n = nextPodIp++;
  return `127.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
}

function defaultContainer(c: any) {
  if (!c || typeof c !== 'object') return;
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const tag = c.image.includes('@')
      ? 'digest'
      : c.image.split('/').pop()!.split(':')[1];
    c.imagePullPolicy = !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP';
  }
}

export function defaultPodSpec(spec: any) {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
}

function defaultTemplate(template: any) {
  if (!template || typeof template !== 'object') return;
  template.metadata ??= {};
  defaultPodSpec(template.spec);
}

export function applyDefaults(type: ResourceType, obj: any) {
  const spec = obj.spec;
  switch (`${type.group}/${type.kind}`) {
    case 'apps/Deployment':
      if (!spec) return;
      spec.replicas ??= 1;
      spec.strategy ??= { type: 'RollingUpdate' };
      spec.strategy.type ??= 'RollingUpdate';
      if (spec.strategy.type === 'RollingUpdate') {
        spec.strategy.rollingUpdate ??= {};
        spec.strategy.rollingUpdate.maxSurge ??= '25%';
        spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
      }
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      defaultTemplate(spec.template);
      break;
    case 'apps/ReplicaSet':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet':
      if (!spec) return;
      if (type.kind !== 'DaemonSet') spec.replicas ??= 1;
      defaultTemplate(spec.template);
      break;
    case '/Pod':
      defaultPodSpec(spec);
      obj.status ??= { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    case '/Service':
      if (!spec) return;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (spec.clusterIP === undefined && spec.type !== 'ExternalName') {
        const n = nextClusterIp++;
        spec.clusterIP = `127.96.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
      }
      if (spec.clusterIP && spec.clusterIPs === undefined)
        spec.clusterIPs = [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      for (const p of spec.ports ?? []) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      obj.status ??= { loadBalancer: {} };
      break;
    case '/Secret':
      // `kubectl create secret generic` sends no type; the API server makes it Opaque.
      obj.type ||= 'Opaque';
      break;
    case '/Namespace':
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      obj.metadata.labels = {
        ...(obj.metadata.labels ?? {}),
        'kubernetes.io/metadata.name': obj.metadata.name,
      };
      break;
    default:
  }
}
