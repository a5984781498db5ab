// The node options every way of starting the server passes: package.json's start script, the
// Dockerfile's CMD, bench/cluster-local.sh and peer-bench's server host (a test keeps them in
// step). server.ts says why each is there and warns when one is missing.
export const SERVER_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
