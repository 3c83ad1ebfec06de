import { spawnSync } from 'node:child_process';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

/** A rendered object as plain data, for our own rules (the models check the schemas). */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // Each kind's own shape: the rules read what they need and the schema check covers the rest.
  // biome-ignore lint/suspicious/noExplicitAny: rendered YAML, validated against the schemas below
  spec?: any;
  data?: Record<string, string>;
}

/** The kinds the manifests may hold, each with its schema; any other kind is an error. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

const INSTALL_KUBECTL =
  'kubectl (1.27 or later, which includes kustomize) is needed to render deploy/kubernetes: ' +
  'install it from https://kubernetes.io/docs/tasks/tools/ (on Debian/Ubuntu, the kubectl package ' +
  'of the Kubernetes apt repository) and make sure it is on PATH';

/** `kubectl kustomize <dir>`: the objects a deployment would apply. Throws (never skips) without kubectl. */
export function renderKustomization(directory: string): KubernetesObject[] {
  const result = spawnSync('kubectl', ['kustomize', directory], { encoding: 'utf8' });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? INSTALL_KUBECTL : `kubectl failed to start: ${result.error.message}`);
  }
  if (result.status !== 0) throw new Error(`kubectl kustomize ${directory} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout).map((document) => {
    if (document.errors.length > 0) throw new Error(document.errors.join('\n'));
    return document.toJSON() as KubernetesObject;
  });
}

/** The object's schema problems (the kubernetes-models validator's message), or undefined when valid. */
export function schemaProblem(object: KubernetesObject): string | undefined {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) return `no schema known for ${object.apiVersion} ${object.kind}: add its model to MODELS`;
  try {
    new Model(object as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
