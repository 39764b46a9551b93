import type { JsonSchema } from '../runtime/json-schema.ts';

/**
 * The `/docs` page: the four OpenAPI documents rendered on the server into one static HTML page
 * (no script, no CDN, nothing fetched), so it reads the same offline and behind a strict CSP.
 */

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** `code` spans for backticked words in descriptions; everything else stays text. */
const prose = (s: unknown) => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');

type Doc = { info: { title: string; description: string; version: string }; paths: Record<string, Record<string, Op>> };
type Op = {
  summary: string; description?: string; tags?: string[]; parameters?: Param[]; security?: Record<string, unknown>[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
};
type Param = { name: string; in: string; required: boolean; description?: string; schema: JsonSchema };

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const t = Array.isArray(s.type) ? s.type.join(' | ') : String(s.type ?? (s.oneOf || s.anyOf ? 'one of' : 'any'));
  if (t === 'array' && s.items) return `${typeOf(s.items as JsonSchema)}[]`;
  return t;
}

function constraints(s: JsonSchema): string[] {
  const out: string[] = [];
  if (s.pattern) out.push(`pattern <code>${esc(s.pattern)}</code>`);
  if (s.minLength !== undefined) out.push(`min length ${esc(s.minLength)}`);
  if (s.maxLength !== undefined) out.push(`max length ${esc(s.maxLength)}`);
  if (s.minimum !== undefined) out.push(`≥ ${esc(s.minimum)}`);
  if (s.maximum !== undefined) out.push(`≤ ${esc(s.maximum)}`);
  if (s.format) out.push(`format ${esc(s.format)}`);
  if (s['x-missing-code']) out.push(`missing → <code>${esc(s['x-missing-code'])}</code>`);
  if (s['x-invalid-code']) out.push(`invalid → <code>${esc(s['x-invalid-code'])}</code>`);
  return out;
}

/** A schema's fields as rows, nested objects flattened to dotted names (two levels deep is plenty to read). */
function rows(s: JsonSchema, prefix = '', depth = 0): string[] {
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((s.required ?? []) as string[]);
  const out: string[] = [];
  for (const [name, p] of Object.entries(props)) {
    const full = prefix + name;
    out.push(`<tr><td><code>${esc(full)}</code>${required.has(name) ? ' <span class="req">required</span>' : ''}</td>`
      + `<td>${esc(typeOf(p))}</td><td>${p.description ? prose(p.description) : ''}${constraints(p).length ? `<div class="c">${constraints(p).join(' · ')}</div>` : ''}</td></tr>`);
    if (depth < 3 && p.type === 'object' && p.properties) out.push(...rows(p, `${full}.`, depth + 1));
    const items = p.items as JsonSchema | undefined;
    if (depth < 3 && items?.type === 'object' && items.properties) out.push(...rows(items, `${full}[].`, depth + 1));
  }
  const pattern = s.patternProperties as Record<string, JsonSchema> | undefined;
  for (const [re, p] of Object.entries(pattern ?? {})) {
    out.push(`<tr><td><code>${esc(re)}</code></td><td>${esc(typeOf(p))}</td><td>${p.description ? prose(p.description) : ''}</td></tr>`);
  }
  return out;
}

function schemaBlock(s: JsonSchema): string {
  const r = rows(s);
  const head = s.description ? `<p>${prose(s.description)}</p>` : '';
  if (r.length === 0) return `${head}<p class="c">${esc(typeOf(s))}</p>`;
  return `${head}<table><thead><tr><th>Field</th><th>Type</th><th>Notes</th></tr></thead><tbody>${r.join('')}</tbody></table>`;
}

function operation(path: string, method: string, op: Op, surface: string): string {
  const id = `${surface}-${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  const params = op.parameters ?? [];
  const body = op.requestBody ? Object.entries(op.requestBody.content) : [];
  return `<section class="op" id="${esc(id)}">
<h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p class="sum">${prose(op.summary)}</p>${op.description ? `<p>${prose(op.description)}</p>` : ''}
${op.security ? `<p class="c">Authentication: ${op.security.map((s) => esc(Object.keys(s).join(' + '))).join(' or ')}</p>` : ''}
${params.length ? `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Notes</th></tr></thead><tbody>${params.map((p) =>
    `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td><td>${esc(p.in)}</td><td>${esc(typeOf(p.schema))}</td><td>${p.description ? prose(p.description) : ''}${constraints(p.schema).length ? `<div class="c">${constraints(p.schema).join(' · ')}</div>` : ''}</td></tr>`).join('')}</tbody></table>` : ''}
${body.map(([type, b]) => `<h4>Request body <span class="c">${esc(type)}</span></h4>${schemaBlock(b.schema)}`).join('')}
<h4>Responses</h4>
${Object.entries(op.responses).map(([status, r]) => `<details${status.startsWith('2') ? ' open' : ''}><summary><span class="st s${esc(status[0])}">${esc(status)}</span> ${prose(r.description)}</summary>
${Object.entries(r.content ?? {}).map(([type, c]) => `<div class="c">${esc(type)}</div>${schemaBlock(c.schema)}`).join('')}</details>`).join('\n')}
</section>`;
}

const css = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2330;background:#f6f7f9}
header{background:#14213d;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}
.wrap{display:flex;align-items:flex-start}nav{position:sticky;top:0;width:290px;flex:none;max-height:100vh;overflow:auto;padding:16px;box-sizing:border-box;font-size:13px;border-right:1px solid #dde1e7;background:#fff}
nav h2{font-size:13px;text-transform:uppercase;letter-spacing:.05em;margin:16px 0 6px;color:#5a6475}nav a{display:block;color:#1c2330;text-decoration:none;padding:2px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav a:hover{color:#2456d6}main{flex:1;padding:8px 32px 64px;min-width:0}
.doc>h2{margin-top:32px;border-bottom:2px solid #14213d;padding-bottom:4px}
.op{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 18px;margin:14px 0}.op h3{margin:0;font-size:16px}
.m{display:inline-block;min-width:58px;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px;margin-right:6px}
.m.get{background:#2f7d4f}.m.post{background:#2456d6}.m.put{background:#8a5a00}.m.patch{background:#7a3fb0}.m.delete{background:#b3261e}.m.options{background:#5a6475}
.sum{font-weight:600;margin:6px 0}table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}th,td{text-align:left;border-bottom:1px solid #eceff3;padding:4px 6px;vertical-align:top}
th{color:#5a6475;font-weight:600}code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f2f5;padding:0 3px;border-radius:3px}
.req{color:#b3261e;font-size:11px}.c{color:#5a6475;font-size:12.5px}h4{margin:12px 0 4px;font-size:14px}
details{margin:4px 0}summary{cursor:pointer}.st{display:inline-block;font-weight:700;min-width:34px}.s2{color:#2f7d4f}.s3{color:#8a5a00}.s4{color:#b3261e}.s5{color:#7a3fb0}`;

/** One page for the four documents, with a table of contents and each operation's fields. */
export function renderDocsPage(docs: readonly { surface: string; url: string; doc: unknown }[]): string {
  const all = docs.map((d) => ({ ...d, doc: d.doc as Doc }));
  const nav = all.map(({ surface, doc }) => `<h2><a href="#${esc(surface)}">${esc(doc.info.title.replace(/^Switchyard /, ''))}</a></h2>`
    + Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) =>
      `<a href="#${esc(`${surface}-${m}-${path}`.replace(/[^A-Za-z0-9]+/g, '-'))}">${esc(m.toUpperCase())} ${esc(path)}</a>`)).join('')).join('');
  const body = all.map(({ surface, url, doc }) => `<div class="doc" id="${esc(surface)}"><h2>${esc(doc.info.title)}</h2>
<p>${prose(doc.info.description)}</p><p class="c">OpenAPI 3.1 document: <a href="${esc(url)}">${esc(url)}</a> · version ${esc(doc.info.version)}</p>
${Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => operation(path, m, op, surface))).join('\n')}</div>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard API reference</title><style>${css}</style></head>
<body><header><h1>Switchyard API reference</h1><p>Generated from the schemas the gateway validates requests with. Errors: docs/errors.md in the repository.</p></header>
<div class="wrap"><nav>${nav}</nav><main>${body}</main></div></body></html>`;
}
