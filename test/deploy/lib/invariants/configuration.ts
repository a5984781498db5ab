// The server's configuration comes from one ConfigMap (envFrom) that exists, and says what the
// pod can serve: HOST reachable from the kubelet and the Service, PORT a container port, and a
// FAIRSPEC_PACK that is either the pack baked into the image or lies on a mounted volume.

import { posix } from 'node:path';
import { defaultConfig } from '../../../../src/config.js';
import { containerEnvironment } from '../environment.js';
import { imageEnvironment } from '../image.js';
import { containers, find, ofKind, problem, type Json, type K8sObject } from '../objects.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
/** The image's WORKDIR, against which a relative FAIRSPEC_PACK resolves. */
const WORKDIR = '/app';

function under(path: string, dir: string): boolean {
  const relative = posix.relative(dir, path);
  return relative === '' || (!relative.startsWith('..') && !posix.isAbsolute(relative));
}

export function configurationProblems(objects: readonly K8sObject[], image = imageEnvironment()): string[] {
  const out: string[] = [];
  for (const d of ofKind(objects, 'Deployment')) {
    const volumes = new Map(((d.spec?.template?.spec?.volumes ?? []) as Json[]).map((v) => [v.name as string, v]));
    for (const { container, path } of containers(d)) {
      const sources = (container.envFrom ?? []) as Json[];
      const configMaps = sources.filter((s) => s.configMapRef !== undefined);
      if (configMaps.length !== 1) {
        out.push(problem(d, `${path}.envFrom`, `${configMaps.length} ConfigMaps: the configuration comes from exactly one`));
      }
      sources.forEach((s, i) => {
        if (s.configMapRef !== undefined && find(objects, 'ConfigMap', s.configMapRef.name, d) === undefined) {
          out.push(problem(d, `${path}.envFrom[${i}].configMapRef.name`, `ConfigMap/${s.configMapRef.name} is not in the rendered manifests`));
        }
      });
      ((container.env ?? []) as Json[]).forEach((v, i) => {
        if (v.value !== undefined) out.push(problem(d, `${path}.env[${i}]`, `${v.name} set inline: configuration belongs in the ConfigMap`));
      });

      const env = containerEnvironment(objects, d, container);
      const setting = (name: string, fallback: string): string => env.get(name) || image.get(name) || fallback;
      const host = setting('HOST', defaultConfig.host);
      if (LOOPBACK.has(host)) out.push(problem(d, `${path}.envFrom`, `HOST=${host}: probes and the Service could not reach the server`));
      const port = Number(setting('PORT', String(defaultConfig.port)));
      if (!((container.ports ?? []) as Json[]).some((p) => p.containerPort === port)) {
        out.push(problem(d, `${path}.ports`, `the server listens on PORT=${port}, which no containerPort declares`));
      }

      const pack = posix.resolve(WORKDIR, setting('FAIRSPEC_PACK', defaultConfig.packDir));
      const imagePack = posix.resolve(WORKDIR, image.get('FAIRSPEC_PACK') ?? defaultConfig.packDir);
      const mount = ((container.volumeMounts ?? []) as Json[]).find((m) => under(pack, m.mountPath));
      if (pack !== imagePack && mount === undefined) {
        out.push(problem(d, `${path}.envFrom`, `FAIRSPEC_PACK=${pack} is neither the image's pack (${imagePack}, Dockerfile) nor on a volumeMount`));
      } else if (mount !== undefined && !volumes.has(mount.name)) {
        out.push(problem(d, `${path}.volumeMounts`, `${mount.name} (holding FAIRSPEC_PACK=${pack}) is not a volume of the pod`));
      } else if (mount !== undefined) {
        const claim = volumes.get(mount.name)?.persistentVolumeClaim?.claimName as string | undefined;
        if (claim !== undefined && find(objects, 'PersistentVolumeClaim', claim, d) === undefined) {
          out.push(problem(d, 'spec.template.spec.volumes', `${mount.name} (holding FAIRSPEC_PACK=${pack}) claims PersistentVolumeClaim/${claim}, which is not in the rendered manifests`));
        }
      }
    }
  }
  return out;
}
