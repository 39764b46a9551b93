import { test } from 'node:test';
import assert from 'node:assert/strict';
import { html } from './html.ts';

test('every interpolated value is escaped unless it is HTML made by html``', () => {
  const name = `<script>alert("x")</script>&'`;
  assert.equal(html`<td>${name}</td>`.text, '<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>');
  assert.equal(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.text, '<ul>&lt;a&gt;<li>ok</li></ul>');
  assert.equal(html`${undefined}${null}${false}${0}`.text, '0');
  assert.equal(html`<input value="${'" onfocus="x'}">`.text, '<input value="&quot; onfocus=&quot;x">');
});
