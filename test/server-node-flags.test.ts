import { readFileSync } from 'node:fs';
import t from 'tap';
import { SERVER_NODE_FLAGS } from '../src/server-node-flags.js';

// Every way of starting the server passes the node options server.ts asks for (the Dockerfile's
// CMD is npm start's command: test/monitoring/provisioning.test.ts).
const starts: Array<[where: string, line: RegExp]> = [
  ['package.json', /"start": "node ([^"]*)dist\/server\.js"/],
  ['bench/cluster-local.sh', /node ([^"]*)"\$dist\/server\.js"/],
];

for (const [where, line] of starts) {
  t.test(where, async (t) => {
    const match = readFileSync(new URL(`../${where}`, import.meta.url), 'utf8').match(line);
    t.ok(match, `${where} starts dist/server.js`);
    for (const flag of SERVER_NODE_FLAGS) t.ok(match?.[1]?.includes(flag), `${where} passes ${flag}`);
  });
}
