// The message a refused drafter load gives the admin client (src/load-error-message.ts), on
// errors the engine really throws and on its message shapes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { EngineError } from '../src/engine/errors.js';
import { readModelConfig } from '../src/engine/model-config.js';
import { loadErrorMessage } from '../src/load-error-message.js';

async function thrown(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
}

t.test("the engine's own errors: relative file names, no contents, errno codes kept", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fairspec-message-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), 'hunter2 {');
  const json = await thrown(readModelConfig(dir));
  t.match(json.message, /hunter2/, 'the engine message quotes the file');
  t.equal(loadErrorMessage(json, [dir], 'x/y'), 'config.json is not valid JSON');
  rmSync(join(dir, 'config.json'));
  const missing = await thrown(readModelConfig(dir));
  t.equal(loadErrorMessage(missing, [dir], 'x/y'), 'cannot read config.json: ENOENT');
});

t.test('message shapes: the id prefix goes, stray absolute paths are hidden, long quoted names cut', async (t) => {
  const folder = '/srv/models/fast';
  const io = new EngineError('FS_MODEL_IO', `models/fast: the ONNX graph requires input "${'n'.repeat(500)}", which the engine cannot supply`);
  t.equal(loadErrorMessage(io, [folder], 'models/fast'), `the ONNX graph requires input "${'n'.repeat(63)}…", which the engine cannot supply`);
  const stray = new EngineError('FS_MODEL_LOAD', `models/fast: cannot open '/etc/elsewhere/file.bin' or ${folder}/onnx/model.onnx or ${folder}`);
  t.equal(loadErrorMessage(stray, [folder], 'models/fast'), "cannot open '<path>' or onnx/model.onnx or the folder");
  t.ok(loadErrorMessage(new EngineError('FS_MODEL_LOAD', 'x'.repeat(5000)), [folder], 'm').length <= 1000);
});
