#!/usr/bin/env node
// fairspec's command line. One command so far:
//
//   fairspec experiments report --prometheus URL --experiment ID [--lookback 7d]
//
// prints the cluster read-out of an experiment as JSON, the body GET /v1/experiments/{id}
// ?scope=cluster answers, computed from Prometheus alone: the experiment's definition and
// creation time from the info series every replica exports, the cells from their counters
// summed over replicas and restarts (src/cluster/cluster-readout.ts), so it works with no
// replica running. Run it from a checkout (`npx tsx bin/fairspec.ts ...`) or, built, as
// `fairspec` (package.json "bin": dist/bin/fairspec.js).

import { parseArgs } from 'node:util';
import { clusterReadoutInput, experimentFromPrometheus } from '../src/cluster/cluster-readout.js';
import { PrometheusApi } from '../src/cluster/prometheus-api.js';
import { summarise } from '../src/experiments/analysis.js';
import { DEFAULT_MIN_REQUESTS } from '../src/fairness/plain-reference.js';
import { experimentSummaryBody } from '../src/wire/experiment-summary.js';

const USAGE = `Usage: fairspec experiments report --prometheus URL --experiment ID [options]

  --prometheus URL           the Prometheus that scraped the replicas (required)
  --experiment ID            the experiment (required)
  --lookback DURATION        how far back to look for its definition, a PromQL duration (default 7d)
  --confidence C             confidence level of every interval (default 0.95)
  -h, --help`;

class UsageError extends Error {}

async function report(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      prometheus: { type: 'string' },
      experiment: { type: 'string' },
      lookback: { type: 'string', default: '7d' },
      confidence: { type: 'string', default: '0.95' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.prometheus) throw new UsageError('--prometheus is required');
  if (!values.experiment) throw new UsageError('--experiment is required');
  if (!/^\d+[smhdwy]$/.test(values.lookback!)) throw new UsageError(`--lookback must be a PromQL duration such as 7d, got ${JSON.stringify(values.lookback)}`);
  const confidence = Number(values.confidence);
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--confidence must be in (0, 1), got ${values.confidence}`);
  let url: URL;
  try {
    url = new URL(values.prometheus);
  } catch {
    throw new UsageError(`--prometheus must be a URL, got ${JSON.stringify(values.prometheus)}`);
  }

  const prometheus = new PrometheusApi(url.href);
  const now = new Date();
  const { experiment, createdAt } = await experimentFromPrometheus(prometheus, values.experiment, values.lookback!, now);
  const input = await clusterReadoutInput(prometheus, experiment, createdAt, { now, minReferenceRequests: DEFAULT_MIN_REQUESTS });
  process.stdout.write(`${JSON.stringify(experimentSummaryBody(summarise(input, { confidence })), null, 2)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [group, command, ...rest] = argv;
  if (group === 'experiments' && command === 'report') return report(rest);
  if (group === undefined || group === '-h' || group === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  throw new UsageError(`unknown command: ${[group, command].filter(Boolean).join(' ')}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`fairspec: ${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`fairspec: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
