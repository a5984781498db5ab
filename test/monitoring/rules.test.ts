// promtool on the Prometheus files: the rule files and the compose Prometheus config are valid,
// and the rules compute what they claim on synthetic series (grafana/prometheus/tests/
// rules.test.yml: every ratio, the speed-up against plain decoding, the disparity aggregates and
// each alert's firing time). Skipped only when promtool is missing (Debian: apt-get install
// prometheus; or set PROMTOOL_BIN).

import t from 'tap';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findExecutable } from '../../monitoring/prometheus-server.js';

const PROMETHEUS_DIR = fileURLToPath(new URL('../../grafana/prometheus/', import.meta.url));
const promtool = findExecutable('promtool', process.env.PROMTOOL_BIN);

interface Run {
  code: number;
  output: string;
}

function run(binary: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: PROMETHEUS_DIR, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

if (promtool === null) {
  t.plan(0, 'promtool is not installed (apt-get install prometheus, or set PROMTOOL_BIN)');
} else {
  const ruleFiles = readdirSync(`${PROMETHEUS_DIR}rules`).filter((f) => /\.ya?ml$/.test(f)).map((f) => `rules/${f}`);

  t.test('promtool check rules', async (t) => {
    t.ok(ruleFiles.length > 0, 'rule files found');
    const r = await run(promtool, ['check', 'rules', ...ruleFiles]);
    t.equal(r.code, 0, 'exit status 0', { output: r.output });
    t.equal(r.output.match(/SUCCESS: \d+ rules found/g)?.length, ruleFiles.length, 'every file checked', { output: r.output });
  });

  t.test('promtool check config (compose Prometheus, with its rule files)', async (t) => {
    const r = await run(promtool, ['check', 'config', 'prometheus.yml']);
    t.equal(r.code, 0, 'exit status 0', { output: r.output });
    t.match(r.output, new RegExp(`SUCCESS: ${ruleFiles.length} rule files found`), 'it loads every rule file');
  });

  t.test('promtool test rules (recording values and alert timing on synthetic series)', async (t) => {
    const r = await run(promtool, ['test', 'rules', 'tests/rules.test.yml']);
    t.equal(r.code, 0, 'exit status 0', { output: r.output });
    t.match(r.output, /SUCCESS/);
  });
}
