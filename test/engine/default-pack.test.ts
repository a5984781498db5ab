// The shipped pack (models/default/): greedy speculative decoding must reproduce the verifier's
// own greedy output token for token, in many languages and for several draft lengths.
// Skipped while the pack is absent. FAIRSPEC_TEST_PACK points the test at another pack.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadEngine } from '../../src/engine/engine.js';
import { argmax } from '../../src/engine/sampling.js';
import type { GenerateOptions } from '../../src/engine/types.js';

const packDir = process.env['FAIRSPEC_TEST_PACK']
  ? resolve(process.env['FAIRSPEC_TEST_PACK'])
  : fileURLToPath(new URL('../../models/default', import.meta.url));
const present = existsSync(join(packDir, 'verifier', 'onnx', 'model.onnx'));

// 36 prompts in 18 languages, close to the training domain (documentation, interface strings).
const PROMPTS: Array<[lang: string, text: string]> = [
  ['en', 'To install the package, run'],
  ['en', 'The configuration file contains'],
  ['en', 'Click Save to keep your changes.'],
  ['de', 'Um das Paket zu installieren, führen Sie'],
  ['de', 'Die Konfigurationsdatei enthält'],
  ['fr', 'Pour installer le paquet, exécutez'],
  ['fr', 'Le fichier de configuration contient'],
  ['es', 'Para instalar el paquete, ejecute'],
  ['es', 'Haga clic en Guardar para conservar los cambios.'],
  ['ru', 'Чтобы установить пакет, выполните'],
  ['ru', 'Файл конфигурации содержит'],
  ['ja', 'パッケージをインストールするには、'],
  ['ja', '設定ファイルには'],
  ['zh', '要安装软件包，请运行'],
  ['zh', '配置文件包含'],
  ['ar', 'لتثبيت الحزمة، قم بتشغيل'],
  ['ar', 'يحتوي ملف الإعدادات على'],
  ['hi', 'पैकेज स्थापित करने के लिए चलाएँ'],
  ['hi', 'विन्यास फ़ाइल में'],
  ['ko', '패키지를 설치하려면 다음을 실행하십시오'],
  ['ko', '설정 파일에는'],
  ['tr', 'Paketi kurmak için şunu çalıştırın'],
  ['tr', 'Yapılandırma dosyası şunları içerir'],
  ['el', 'Για να εγκαταστήσετε το πακέτο, εκτελέστε'],
  ['el', 'Το αρχείο ρυθμίσεων περιέχει'],
  ['pt', 'Para instalar o pacote, execute'],
  ['it', 'Per installare il pacchetto, eseguire'],
  ['pl', 'Aby zainstalować pakiet, uruchom'],
  ['uk', 'Щоб установити пакунок, виконайте'],
  ['vi', 'Để cài đặt gói, hãy chạy'],
  ['th', 'ในการติดตั้งแพ็คเกจ ให้เรียกใช้'],
  ['he', 'כדי להתקין את החבילה, הפעל'],
  ['fa', 'برای نصب بسته، اجرا کنید'],
  ['id', 'Untuk memasang paket, jalankan'],
  ['nl', 'Voer het volgende uit om het pakket te installeren'],
  ['sv', 'Kör följande för att installera paketet'],
];

const DRAFT_LENGTHS = [1, 3, 5];
const MAX_TOKENS = 10;

// A 25M-parameter verifier takes ~10-30 ms a pass on two busy cores; the default 30 s per file is tight.
t.setTimeout(180_000);

t.test('default pack: greedy speculative output equals greedy verifier output', { skip: present ? false : `no model pack at ${packDir}` }, async (t) => {
  const engine = await loadEngine(packDir);
  t.teardown(() => engine.close());
  t.ok(engine.drafterNames.length > 0, `drafters: ${engine.drafterNames.join(', ')}`);
  t.ok(new Set(PROMPTS.map(([lang]) => lang)).size >= 10 && PROMPTS.length >= 30, 'at least 30 prompts in at least 10 languages');
  // Only a pack with a short context (a dry run on a test fixture) needs this.
  const fit = (prompt: string) => {
    let chars = [...prompt];
    while (engine.countTokens(chars.join('')) + MAX_TOKENS > engine.contextLength) chars = chars.slice(1);
    return chars.join('');
  };
  const greedy: GenerateOptions = { temperature: 0, topP: 1, topK: 0, maxTokens: MAX_TOKENS, stop: [], drafter: null, draftLength: 0 };
  // Each prompt is checked with one (drafter, γ) pair, cycling through all pairs, so every pair
  // sees prompts in many languages while the test stays well under a minute.
  const pairs = engine.drafterNames.flatMap((drafter) => DRAFT_LENGTHS.map((draftLength) => ({ drafter, draftLength })));
  let runs = 0;
  let drafted = 0;
  let accepted = 0;
  for (const [index, [lang, fullPrompt]] of PROMPTS.entries()) {
    const prompt = fit(fullPrompt);
    const { drafter, draftLength } = pairs[index % pairs.length]!;
    const plain = await engine.generate(prompt, greedy);
    const spec = await engine.generate(prompt, { ...greedy, drafter, draftLength });
    runs++;
    drafted += spec.stats.draftedTokens;
    accepted += spec.stats.acceptedTokens;
    if (spec.tokenIds.join() === plain.tokenIds.join() && spec.text === plain.text) continue;
    // Name the first divergence and how close the verifier's top two logits were there.
    const at = Math.max(0, spec.tokenIds.findIndex((x, i) => x !== plain.tokenIds[i]));
    const promptIds = engine.tokenizer.encode(prompt);
    const rows = await engine.verifier.forward(engine.verifier.newCache(), [...promptIds, ...plain.tokenIds]);
    const row = rows[promptIds.length - 1 + at]!;
    const top = argmax(row);
    const second = argmax(row.map((v, i) => (i === top ? -Infinity : v)));
    t.fail(`${lang} ${drafter} γ=${draftLength} ${JSON.stringify(prompt)}: differs at token ${at}; top-2 logit gap there ${(row[top]! - row[second]!).toExponential(2)}`, {
      plain: plain.tokenIds,
      speculative: spec.tokenIds,
    });
  }
  t.pass(`${runs} prompts checked (drafters ${engine.drafterNames.join('/')}, γ ${DRAFT_LENGTHS.join('/')}); ${accepted} of ${drafted} drafts accepted`);
});
