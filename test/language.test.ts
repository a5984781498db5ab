import t from 'tap';
import { LanguageLabels, OTHER, UNKNOWN } from '../src/language.js';

t.test('configured languages keep their label, others are bounded', async (t) => {
  const labels = new LanguageLabels(['en', 'zh-Hant', 'am', 'en']);
  t.equal(labels.label('en'), 'en');
  t.equal(labels.label('zh-Hant'), 'zh-Hant');
  t.equal(labels.label('fr'), OTHER);
  t.equal(labels.label('EN'), OTHER, 'labels are exact codes');
  t.equal(labels.label('zh'), OTHER, 'zh is not zh-Hant');
  t.equal(labels.label(null), UNKNOWN);
  t.equal(labels.label(undefined), UNKNOWN);
  t.same(labels.values, ['am', 'en', 'zh-Hant', 'other', 'unknown']);
});

t.test('whatever requests send, label values stay in the configured set', async (t) => {
  const labels = new LanguageLabels(['en', 'de']);
  const seen = new Set<string>();
  // requests can name any language (and any string at all)
  for (let i = 0; i < 5000; i++) seen.add(labels.label(`x${i.toString(36)}`));
  for (const s of ['', ' ', 'other', 'unknown', 'de\n', '__proto__', 'constructor', 'en-US']) seen.add(labels.label(s));
  seen.add(labels.label(null));
  t.same([...seen].sort(), ['other', 'unknown']);
  t.ok([...seen].every((v) => labels.values.includes(v)));
});

t.test('an empty configuration still labels', async (t) => {
  const labels = new LanguageLabels([]);
  t.equal(labels.label('en'), OTHER);
  t.same(labels.values, [OTHER, UNKNOWN]);
});

t.test('configured values must be language codes, never the reserved labels', async (t) => {
  for (const bad of ['other', 'unknown', '', 'English', 'en US', 'e', '{en}']) {
    t.throws(() => new LanguageLabels([bad]), { name: 'TypeError', message: JSON.stringify(bad) }, JSON.stringify(bad));
  }
});
