import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, html, raw, safeUrl } from './html.ts';

test('text interpolations are escaped', () => {
  const out = String(html`<p>${'<script>alert(1)</script> & co'}</p>`);
  assert.equal(out, '<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>');
});

test('attribute values cannot leave their quotes', () => {
  const evil = `x" onmouseover="alert(1)`;
  assert.equal(String(html`<a title="${evil}">`), '<a title="x&quot; onmouseover&#61;&quot;alert(1)">');
  assert.equal(String(html`<a title='${"a' b"}'>`), "<a title='a&#39; b'>");
  assert.equal(String(html`<a title="${'`x`'}">`), '<a title="&#96;x&#96;">');
});

test('Html values are inserted unescaped, lists joined, nothing renders empty', () => {
  const item = (name: string) => html`<li>${name}</li>`;
  const out = html`<ul>${['a<', 'b'].map(item)}${null}${undefined}${false}</ul>`;
  assert.equal(String(out), '<ul><li>a&lt;</li><li>b</li></ul>');
  assert.equal(String(html`${raw('<b>trusted</b>')} ${42}`), '<b>trusted</b> 42');
});

test('escapeHtml covers the characters that end text or attribute contexts', () => {
  assert.equal(escapeHtml(`&<>"'\`=`), '&amp;&lt;&gt;&quot;&#39;&#96;&#61;');
});

test('safeUrl keeps relative paths and http(s) URLs and drops script-bearing schemes', () => {
  assert.equal(safeUrl('/console/agents/agt_1'), '/console/agents/agt_1');
  assert.equal(safeUrl('https://api.github.com'), 'https://api.github.com/');
  assert.equal(safeUrl('javascript:alert(1)'), '#');
  assert.equal(safeUrl('data:text/html,<b>'), '#');
  assert.equal(safeUrl('//evil.example/x'), '#');
  assert.equal(safeUrl('not a url'), '#');
});
