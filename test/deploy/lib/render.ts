// `kubectl kustomize` on deploy/'s kustomizations, parsed into objects. kubectl must be on PATH
// with kustomize v5 or later (the overlays use `patches:`); Debian's kubernetes-client package
// (kubectl 1.20, kustomize v2.0.3) is too old, so nothing installs it: requireKubectl() says so.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './objects.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const DEPLOY = join(REPO, 'deploy');

/** deploy/base and every folder under deploy/overlays and deploy/examples with a kustomization.yaml, repository-relative. */
export function kustomizations(): string[] {
  const under = (group: string): string[] =>
    readdirSync(join(DEPLOY, group), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(DEPLOY, group, d.name, 'kustomization.yaml')))
      .map((d) => `deploy/${group}/${d.name}`)
      .sort();
  return ['deploy/base', ...under('overlays'), ...under('examples')];
}

const MIN_KUSTOMIZE_MAJOR = 5;

/** Why kubectl cannot render deploy/, or null when it can. */
export function kubectlProblem(): string | null {
  let out: string;
  try {
    out = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return `kubectl is not on PATH (${(err as Error).message.split('\n')[0]}): install kubectl 1.27 or later, which embeds kustomize v5`;
  }
  const m = /Kustomize Version: v(\d+)\./.exec(out);
  if (m === null || Number(m[1]) < MIN_KUSTOMIZE_MAJOR) {
    return `kubectl's kustomize is older than v${MIN_KUSTOMIZE_MAJOR} (${out.trim().replace(/\n/g, '; ')}): install kubectl 1.27 or later`;
  }
  return null;
}

/** Throws with kubectlProblem()'s reason, so a test fails saying what to install. */
export function requireKubectl(): void {
  const reason = kubectlProblem();
  if (reason !== null) throw new Error(reason);
}

export function render(kustomization: string): K8sObject[] {
  const yaml = execFileSync('kubectl', ['kustomize', join(REPO, kustomization)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(yaml).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${kustomization}: ${doc.errors[0]!.message}`);
    return doc.toJS() as K8sObject;
  });
}
