import {
  ApiConfigSchema,
  DELIVERY_QUEUE,
  FILE_SECRET_SETTINGS,
  MigrateConfigSchema,
  WorkerConfigSchema,
} from '@otp-relay/core';
import { describe, expect, it } from 'vitest';
import { type KubernetesObject, renderKustomization, schemaProblem } from './support/kubernetes-objects.js';

/**
 * The manifests under deploy/kubernetes, rendered as `kubectl kustomize` renders them for an apply:
 * every object valid against its Kubernetes (or CRD) schema, and our own rules on top.
 */

interface Container {
  name: string;
  image: string;
  command?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}

const KUSTOMIZATIONS = ['deploy/kubernetes/base', 'deploy/kubernetes/overlays/example'];
const CONFIG_NAMES = new Set([
  ...Object.keys(ApiConfigSchema.properties),
  ...Object.keys(WorkerConfigSchema.properties),
]);
const FILE_NAMES = new Map(FILE_SECRET_SETTINGS.map((name) => [`${name}_FILE`, name]));
// The API's own shutdown is bounded at 10 s (apps/api/src/main.ts), the worker's at 30 s.
const API_SHUTDOWN_SECONDS = 10;
const WORKER_SHUTDOWN_SECONDS = 30;

const podSpec = (object: KubernetesObject): PodSpec => object.spec.template.spec;
const find = (objects: KubernetesObject[], kind: string, name: string) => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`${kind} ${name} is not in the rendered manifests`);
  return found;
};
const envValue = (container: Container, name: string) =>
  container.env?.find((variable) => variable.name === name)?.value;
const portNumber = (container: Container, port: string | number) =>
  typeof port === 'number'
    ? port
    : container.ports?.find((candidate) => candidate.name === port)?.containerPort;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe.each(KUSTOMIZATIONS)('kubectl kustomize %s', (directory) => {
  const objects = renderKustomization(directory);
  const workloads = objects.filter((object) => object.kind === 'Deployment' || object.kind === 'Job');
  const configMap = find(objects, 'ConfigMap', 'otp-relay-config');
  const api = find(objects, 'Deployment', 'otp-relay-api');
  const worker = find(objects, 'Deployment', 'otp-relay-worker');
  const apiContainer = podSpec(api).containers[0] as Container;
  const workerContainer = podSpec(worker).containers[0] as Container;

  it('renders every object the issue asks for', () => {
    const kinds = new Set(objects.map((object) => object.kind));
    for (const kind of [
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Job',
      'ScaledObject',
      'NetworkPolicy',
      'ServiceMonitor',
      'ConfigMap',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('every object is valid against its Kubernetes or CRD schema', () => {
    const problems = objects.flatMap((object) => {
      const problem = schemaProblem(object);
      return problem ? [`${object.kind} ${object.metadata.name}: ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('every container has requests and limits, runs as non-root with a read-only root and no capabilities', () => {
    for (const workload of workloads) {
      const spec = podSpec(workload);
      for (const container of spec.containers) {
        const where = `${workload.kind} ${workload.metadata.name}/${container.name}`;
        for (const part of ['requests', 'limits'] as const) {
          expect(Object.keys(container.resources?.[part] ?? {}).sort(), `${where} ${part}`).toEqual([
            'cpu',
            'memory',
          ]);
        }
        const nonRoot = container.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
        expect(nonRoot, `${where} runAsNonRoot`).toBe(true);
        // The image's user is named (`node`): only a numeric one lets the kubelet check runAsNonRoot.
        expect(spec.securityContext?.runAsUser, `${where} runAsUser`).toBeGreaterThan(0);
        expect(container.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext?.capabilities?.drop, where).toContain('ALL');
      }
    }
  });

  it('every long-running container has readiness and liveness probes on a port it declares', () => {
    for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
      for (const container of podSpec(deployment).containers) {
        for (const probe of [container.readinessProbe, container.livenessProbe]) {
          expect(probe?.httpGet, `${deployment.metadata.name}/${container.name}`).toBeDefined();
          expect(portNumber(container, probe?.httpGet?.port ?? -1)).toBeTypeOf('number');
        }
      }
    }
  });

  it('the API is probed on its public port (/readyz, /healthz) and drains before it stops', () => {
    const publicPort = Number(envValue(apiContainer, 'PORT'));
    expect(apiContainer.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(apiContainer.livenessProbe?.httpGet?.path).toBe('/healthz');
    for (const probe of [apiContainer.readinessProbe, apiContainer.livenessProbe]) {
      expect(portNumber(apiContainer, probe?.httpGet?.port ?? -1)).toBe(publicPort);
    }
    const drain = apiContainer.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(drain).toBeGreaterThan(0);
    expect(podSpec(api).terminationGracePeriodSeconds).toBeGreaterThan(drain + API_SHUTDOWN_SECONDS);
    expect(podSpec(worker).terminationGracePeriodSeconds).toBeGreaterThan(WORKER_SHUTDOWN_SECONDS);
  });

  it('the worker is ready while its dependencies answer (/healthz), and alive while it answers at all (/livez)', () => {
    // A shared outage must take workers out of readiness, not restart them all at once.
    expect(workerContainer.readinessProbe?.httpGet?.path).toBe('/healthz');
    expect(workerContainer.livenessProbe?.httpGet?.path).toBe('/livez');
  });

  it('the HPA and the PodDisruptionBudget act on the API pods', () => {
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'otp-relay-api');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: api.metadata.name });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    const budget = objects.find((object) => object.kind === 'PodDisruptionBudget');
    expect(matches(budget?.spec.selector.matchLabels, api.spec.template.metadata.labels)).toBe(true);
    expect(hpa.spec.minReplicas).toBeGreaterThan(budget?.spec.minAvailable);
  });

  it("the operators' port has a Service of its own, reached only from chosen namespaces", () => {
    const adminPort = Number(envValue(apiContainer, 'ADMIN_PORT'));
    const publicPort = Number(envValue(apiContainer, 'PORT'));
    expect(envValue(apiContainer, 'ADMIN_HOST')).toBe('0.0.0.0');
    const services = objects.filter(
      (object) =>
        object.kind === 'Service' && matches(object.spec.selector, api.spec.template.metadata.labels),
    );
    const targets = (service: KubernetesObject) =>
      (service.spec.ports as { targetPort: string | number }[]).map((port) =>
        portNumber(apiContainer, port.targetPort),
      );
    // No Service carries both ports: an Ingress on the public one can never reach the admin one.
    expect(services.filter((service) => targets(service).includes(adminPort))).toHaveLength(1);
    for (const service of services) {
      expect(targets(service).includes(adminPort) && targets(service).includes(publicPort)).toBe(false);
    }

    const policies = objects.filter(
      (object) =>
        object.kind === 'NetworkPolicy' &&
        matches(object.spec.podSelector.matchLabels, api.spec.template.metadata.labels),
    );
    expect(policies).toHaveLength(1);
    const rules = (policies[0]?.spec.ingress ?? []) as {
      ports?: { port: string | number }[];
      from?: { namespaceSelector?: { matchLabels?: Record<string, string> }; podSelector?: unknown }[];
    }[];
    const rulesFor = (port: number) =>
      rules.filter(
        (rule) => !rule.ports || rule.ports.some((entry) => portNumber(apiContainer, entry.port) === port),
      );
    // The public port: open to any peer (the ingress controller, wherever it runs).
    expect(rulesFor(publicPort).some((rule) => !rule.from || rule.from.length === 0)).toBe(true);
    // The admin port: every rule that opens it names its peers, and none names all namespaces.
    expect(rulesFor(adminPort).length).toBeGreaterThan(0);
    for (const rule of rulesFor(adminPort)) {
      expect(rule.from?.length).toBeGreaterThan(0);
      for (const peer of rule.from ?? []) {
        expect(Object.keys(peer.namespaceSelector?.matchLabels ?? {}).length).toBeGreaterThan(0);
      }
    }
  });

  it('KEDA scales the worker Deployment on the waiting list of the delivery queue', () => {
    const scaled = objects.find((object) => object.kind === 'ScaledObject');
    expect(scaled?.spec.scaleTargetRef.name).toBe(worker.metadata.name);
    expect(scaled?.spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
    expect(scaled?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const trigger = scaled?.spec.triggers[0];
    expect(trigger.type).toBe('redis');
    // BullMQ keeps a queue's waiting jobs in the list <prefix>:<queue>:wait.
    const prefix = configMap.data?.QUEUE_PREFIX ?? 'bull';
    expect(trigger.metadata.listName).toBe(`${prefix}:${DELIVERY_QUEUE}:wait`);
    if (trigger.authenticationRef) find(objects, 'TriggerAuthentication', trigger.authenticationRef.name);
  });

  it("the ServiceMonitor scrapes both /metrics: the API's admin port and the worker's", () => {
    const monitor = objects.find((object) => object.kind === 'ServiceMonitor');
    const endpoints = monitor?.spec.endpoints as { port: string; path: string }[];
    const scraped = objects.filter(
      (object) =>
        object.kind === 'Service' && matches(monitor?.spec.selector.matchLabels, object.metadata.labels),
    );
    for (const [deployment, container, portVariable] of [
      [api, apiContainer, 'ADMIN_PORT'],
      [worker, workerContainer, 'WORKER_METRICS_PORT'],
    ] as const) {
      const port = Number(envValue(container, portVariable));
      const service = scraped.find((candidate) =>
        matches(candidate.spec.selector, deployment.spec.template.metadata.labels),
      );
      const servicePort = (
        (service?.spec.ports ?? []) as { name: string; targetPort: string | number }[]
      ).find((candidate) => portNumber(container, candidate.targetPort) === port);
      expect(endpoints.find((endpoint) => endpoint.port === servicePort?.name)?.path).toBe('/metrics');
    }
  });

  it('the migrations run as a Job with the migrate command and the same image', () => {
    const job = objects.find((object) => object.kind === 'Job');
    const container = podSpec(job as KubernetesObject).containers[0] as Container;
    expect(container.command).toEqual(['node', 'packages/db/dist/migrate-cli.js']);
    expect(container.image).toBe(apiContainer.image);
    expect(workerContainer.image).toBe(apiContainer.image);
  });

  it('every setting given is a config variable, and every required one is given', () => {
    expect(Object.keys(configMap.data ?? {}).filter((name) => !CONFIG_NAMES.has(name))).toEqual([]);
    // Required and without a default: what a pod cannot start without.
    const required = (schema: { required?: readonly string[]; properties: object }) =>
      (schema.required ?? []).filter(
        (name: string) =>
          (schema.properties as Record<string, { default?: unknown }>)[name]?.default === undefined,
      );
    for (const workload of workloads) {
      for (const container of podSpec(workload).containers) {
        const names = (container.env ?? []).map((variable) => variable.name);
        expect(
          names.filter((name) => !CONFIG_NAMES.has(name) && !FILE_NAMES.has(name)),
          `${workload.metadata.name}/${container.name}`,
        ).toEqual([]);
        const given = new Set([
          ...names.map((name) => FILE_NAMES.get(name) ?? name),
          ...(container.envFrom?.some((source) => source.configMapRef?.name === configMap.metadata.name)
            ? Object.keys(configMap.data ?? {})
            : []),
        ]);
        const command = container.command?.join(' ') ?? '';
        const schema = command.includes('migrate-cli')
          ? MigrateConfigSchema
          : command.includes('worker')
            ? WorkerConfigSchema
            : ApiConfigSchema;
        expect(
          required(schema).filter((name) => !given.has(name)),
          `${workload.metadata.name}`,
        ).toEqual([]);
      }
    }
  });

  it('every *_FILE names a file of a mounted Secret, under its own key', () => {
    for (const workload of workloads) {
      const spec = podSpec(workload);
      for (const container of spec.containers) {
        for (const variable of container.env ?? []) {
          const setting = FILE_NAMES.get(variable.name);
          if (!setting) continue;
          const mount = container.volumeMounts?.find((candidate) =>
            variable.value?.startsWith(`${candidate.mountPath}/`),
          );
          const volume = spec.volumes?.find((candidate) => candidate.name === mount?.name);
          const file = variable.value?.slice((mount?.mountPath.length ?? 0) + 1);
          expect(
            volume?.secret?.items?.some((item) => item.path === file && item.key === setting),
            `${workload.metadata.name} ${variable.name}`,
          ).toBe(true);
        }
      }
    }
  });
});

describe('the schema check', () => {
  it('rejects an object that breaks its schema', () => {
    const [deployment] = renderKustomization('deploy/kubernetes/base').filter(
      (object) => object.kind === 'Deployment',
    );
    const broken = structuredClone(deployment as KubernetesObject);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'three thousand';
    expect(schemaProblem(broken)).toMatch(/containerPort/);
    expect(schemaProblem({ ...broken, kind: 'Ingress', apiVersion: 'networking.k8s.io/v1' })).toMatch(
      /no schema known/,
    );
  });
});
