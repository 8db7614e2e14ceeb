import { t, type MessageKey } from '../../chat/i18n';
import type { Config } from '../../config/model';
import type { CategoryNode } from '../../config/schema';
import { startsFrom } from '../../domain/ticket';
import type { Locale, TicketState } from '../../domain/types';
import { stateName } from '../../reports/format';

/** Server-rendered pages of the web form and the status page (issue 18); no outside assets. */

export const esc = (v: unknown): string =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `body{font:15px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#1d1d1f}
main{max-width:640px;margin:0 auto;padding:16px}h1{font-size:1.4em}label{display:block;margin:12px 0 4px;font-weight:600}
input,select,textarea{width:100%;box-sizing:border-box;padding:8px;font:inherit;border:1px solid #c7c9cf;border-radius:6px;background:#fff}
textarea{min-height:120px}button{margin-top:16px;padding:10px 18px;font:inherit;border:0;border-radius:6px;background:#2456d3;color:#fff;cursor:pointer}
button.secondary{background:#e4e6eb;color:#1d1d1f}.error{background:#fde8e8;border:1px solid #f5a3a3;padding:8px 12px;border-radius:6px}
.note{background:#e8f1fd;padding:8px 12px;border-radius:6px}.article{background:#fff;border:1px solid #dcdfe4;border-radius:8px;padding:12px;margin:12px 0}
.msg{background:#fff;border:1px solid #dcdfe4;border-radius:8px;padding:8px 12px;margin:8px 0}.msg small{color:#666}dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px}dt{font-weight:600}
.req{color:#c00}`;

export interface PageParts {
  locale: Locale;
  nonce: string;
  title: string;
  body: string;
  script?: string;
}

export function page(p: PageParts): string {
  return `<!doctype html><html lang="${p.locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(p.title)}</title><style nonce="${p.nonce}">${STYLE}</style></head>
<body><main>${p.body}</main>${p.script ? `<script nonce="${p.nonce}">${p.script}</script>` : ''}</body></html>`;
}

export function messagePage(locale: Locale, nonce: string, key: MessageKey): string {
  return page({ locale, nonce, title: t(locale, 'web.form.title'), body: `<h1>${esc(t(locale, 'web.form.title'))}</h1><p class="error" id="problem">${esc(t(locale, key))}</p>` });
}

/** The form's values, kept across the suggestion step. */
export interface FormValues {
  category?: string | undefined;
  title?: string | undefined;
  description?: string | undefined;
  name?: string | undefined;
  email?: string | undefined;
  fields: Record<string, string>;
  fileName?: string | undefined;
  fileType?: string | undefined;
  fileData?: string | undefined;
}

interface Leaf {
  id: string;
  group: string;
  label: string;
  required: string[];
}

function leavesOf(config: Config, locale: Locale): Leaf[] {
  const out: Leaf[] = [];
  const walk = (nodes: readonly CategoryNode[], top: string | undefined, names: string[]) => {
    for (const n of nodes) {
      const here = [...names, n.name[locale]];
      if (n.children?.length) walk(n.children, top ?? n.id, here);
      else out.push({ id: n.id, group: top ?? n.id, label: here.slice(1).join(' › ') || here[0]!, required: config.leaves.get(n.id)?.required ?? [] });
    }
  };
  walk(config.raw.categories, undefined, []);
  return out;
}

/** Cascading choice: the type (top-level category), then its leaves; the script narrows the second list and marks required fields. */
const FORM_SCRIPT = `(function(){var g=document.getElementById('group'),c=document.getElementById('category');
function narrow(){var v=g.value,first=null;for(var i=0;i<c.options.length;i++){var o=c.options[i];var show=!o.value||o.getAttribute('data-group')===v;o.hidden=!show;o.disabled=!show;if(show&&o.value&&!first)first=o;}
if(c.selectedOptions.length&&c.selectedOptions[0].disabled){c.value=first?first.value:'';}mark();}
function mark(){var o=c.selectedOptions[0];var req=o?(o.getAttribute('data-required')||'').split(' '):[];
var ins=document.querySelectorAll('[data-field]');for(var i=0;i<ins.length;i++){var id=ins[i].getAttribute('data-field');var r=req.indexOf(id)>=0;ins[i].required=r;
var m=document.getElementById('req-'+id);if(m)m.hidden=!r;}}
g.addEventListener('change',narrow);c.addEventListener('change',mark);narrow();
var f=document.getElementById('file');if(f)f.addEventListener('change',function(){var file=f.files[0];var d=document.getElementById('file_data');
if(!file){d.value='';return;}var r=new FileReader();r.onload=function(){var s=String(r.result);d.value=s.slice(s.indexOf(',')+1);
document.getElementById('file_name').value=file.name;document.getElementById('file_type').value=file.type||'application/octet-stream';};r.readAsDataURL(file);});})();`;

export function formPage(o: { config: Config; locale: Locale; nonce: string; action: string; csrf: string; prefill: Record<string, string>; values: FormValues; problem?: string | undefined }): string {
  const { config, locale } = o;
  const leaves = leavesOf(config, locale);
  const chosen = leaves.find((l) => l.id === o.values.category);
  const group = chosen?.group ?? leaves[0]?.group;
  const groups = config.raw.categories.filter((c) => leaves.some((l) => l.group === c.id));
  const fieldDefs = config.raw.fields.filter((f) => !(f.id in o.prefill));
  const fieldInput = (f: (typeof fieldDefs)[number]) => {
    const v = o.values.fields[f.id] ?? '';
    const required = chosen?.required.includes(f.id) ?? false;
    const label = `<label for="f-${esc(f.id)}">${esc(f.name[locale])} <span class="req" id="req-${esc(f.id)}"${required ? '' : ' hidden'}>*</span></label>`;
    if (f.type === 'select' && f.options)
      return `${label}<select id="f-${esc(f.id)}" name="f.${esc(f.id)}" data-field="${esc(f.id)}"${required ? ' required' : ''}><option value=""></option>${f.options.map((op) => `<option value="${esc(op.id)}"${op.id === v ? ' selected' : ''}>${esc(op.name[locale])}</option>`).join('')}</select>`;
    return `${label}<input id="f-${esc(f.id)}" name="f.${esc(f.id)}" data-field="${esc(f.id)}"${f.type === 'number' ? ' inputmode="decimal"' : ''} value="${esc(v)}"${required ? ' required' : ''}>`;
  };
  const context = Object.entries(o.prefill);
  const body = `<h1>${esc(t(locale, 'web.form.title'))}</h1><p>${esc(t(locale, 'web.form.intro'))}</p>
${o.problem ? `<p class="error" id="problem">${esc(o.problem)}</p>` : ''}
<form method="post" action="${esc(o.action)}" id="ticket-form">
<input type="hidden" name="csrf" value="${esc(o.csrf)}">
<label for="group">${esc(t(locale, 'web.form.group'))}</label><select id="group" name="group">${groups.map((g) => `<option value="${esc(g.id)}"${g.id === group ? ' selected' : ''}>${esc(g.name[locale])}</option>`).join('')}</select>
<label for="category">${esc(t(locale, 'web.form.category'))} <span class="req">*</span></label><select id="category" name="category" required><option value=""></option>${leaves
    .map((l) => `<option value="${esc(l.id)}" data-group="${esc(l.group)}" data-required="${esc(l.required.join(' '))}"${l.id === o.values.category ? ' selected' : ''}>${esc(l.label)}</option>`)
    .join('')}</select>
<label for="title">${esc(t(locale, 'web.form.title_field'))} <span class="req">*</span></label><input id="title" name="title" maxlength="150" required value="${esc(o.values.title)}">
<label for="description">${esc(t(locale, 'web.form.description'))}</label><textarea id="description" name="description" maxlength="10000">${esc(o.values.description)}</textarea>
${fieldDefs.map(fieldInput).join('\n')}
${o.prefill.user ? '' : `<label for="name">${esc(t(locale, 'web.form.name'))}</label><input id="name" name="name" maxlength="200" value="${esc(o.values.name)}">
<label for="email">${esc(t(locale, 'web.form.email'))}</label><input id="email" name="email" type="email" maxlength="200" value="${esc(o.values.email)}">`}
<label for="file">${esc(t(locale, 'web.form.file'))}</label><input id="file" type="file" accept="image/png,image/jpeg,image/gif,application/pdf,text/plain">
<input type="hidden" id="file_data" name="file_data" value="${esc(o.values.fileData)}"><input type="hidden" id="file_name" name="file_name" value="${esc(o.values.fileName)}"><input type="hidden" id="file_type" name="file_type" value="${esc(o.values.fileType)}">
${context.length ? `<h2>${esc(t(locale, 'web.form.context'))}</h2><dl id="context">${context.map(([k, v]) => `<dt>${esc(config.raw.fields.find((f) => f.id === k)?.name[locale] ?? k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>` : ''}
<button type="submit" id="submit">${esc(t(locale, 'web.form.submit'))}</button></form>`;
  return page({ locale, nonce: o.nonce, title: t(locale, 'web.form.title'), body, script: FORM_SCRIPT });
}

/** Every value of the form again as hidden inputs (the suggestion step posts them back). */
export function hiddenValues(v: FormValues): string {
  const h = (name: string, value: string | undefined) => (value ? `<input type="hidden" name="${esc(name)}" value="${esc(value)}">` : '');
  return [
    h('category', v.category),
    h('title', v.title),
    h('description', v.description),
    h('name', v.name),
    h('email', v.email),
    h('file_data', v.fileData),
    h('file_name', v.fileName),
    h('file_type', v.fileType),
    ...Object.entries(v.fields).map(([k, x]) => h(`f.${k}`, x)),
  ].join('');
}

export function suggestionsPage(o: { locale: Locale; nonce: string; action: string; csrf: string; values: FormValues; deflectionId: string; articles: Array<{ id: string; title: string; body: string }> }): string {
  const { locale } = o;
  const body = `<h1>${esc(t(locale, 'chat.deflect.title'))}</h1>
${o.articles.map((a) => `<article class="article" data-article="${esc(a.id)}"><h2>${esc(a.title)}</h2><div>${esc(a.body).replace(/\n/g, '<br>')}</div></article>`).join('')}
<form method="post" action="${esc(o.action)}" id="deflect-form"><input type="hidden" name="csrf" value="${esc(o.csrf)}"><input type="hidden" name="deflection" value="${esc(o.deflectionId)}">
${hiddenValues(o.values)}${o.articles.length === 1 ? `<input type="hidden" name="article" value="${esc(o.articles[0]!.id)}">` : ''}
<button type="submit" name="choice" value="solved" id="solved">${esc(t(locale, 'chat.deflect.solved'))}</button>
<button type="submit" name="choice" value="still" id="still" class="secondary">${esc(t(locale, 'chat.deflect.still_need_help'))}</button></form>`;
  return page({ locale, nonce: o.nonce, title: t(locale, 'chat.deflect.title'), body });
}

export function thanksPage(locale: Locale, nonce: string): string {
  return page({ locale, nonce, title: t(locale, 'web.form.title'), body: `<h1>${esc(t(locale, 'web.form.title'))}</h1><p class="note" id="thanks">${esc(t(locale, 'chat.deflect.thanks'))}</p>` });
}

export interface StatusMessage {
  fromRequester: boolean;
  body: string;
  at: string;
}

export function statusPage(o: { locale: Locale; nonce: string; action: string; csrf: string; key: string; title: string; state: TicketState; messages: StatusMessage[]; notice?: string | undefined; problem?: string | undefined }): string {
  const { locale } = o;
  // What the page offers follows the core's state rule, as the chat cards do.
  const canAnswer = startsFrom('requester_reply', o.state);
  const body = `<h1>${esc(t(locale, 'web.status.title', { key: o.key }))}</h1><p><strong>${esc(o.title)}</strong></p>
<p id="state" data-state="${esc(o.state)}">${esc(t(locale, 'web.status.state', { state: stateName(o.state, locale) }))}</p>
${o.notice ? `<p class="note" id="notice">${esc(o.notice)}</p>` : ''}${o.problem ? `<p class="error" id="problem">${esc(o.problem)}</p>` : ''}
<h2>${esc(t(locale, 'web.status.replies'))}</h2><div id="messages">${
    o.messages.length
      ? o.messages.map((m) => `<div class="msg" data-from="${m.fromRequester ? 'requester' : 'agent'}"><small>${esc(t(locale, m.fromRequester ? 'web.status.you' : 'web.status.agent'))} · ${esc(m.at.slice(0, 16).replace('T', ' '))} UTC</small><div>${esc(m.body).replace(/\n/g, '<br>')}</div></div>`).join('')
      : `<p>${esc(t(locale, 'web.status.none'))}</p>`
  }</div>
${canAnswer ? `<form method="post" action="${esc(o.action)}" id="reply-form"><input type="hidden" name="csrf" value="${esc(o.csrf)}">
<label for="body">${esc(t(locale, 'web.status.reply'))}</label><textarea id="body" name="body" maxlength="10000"></textarea>
<button type="submit" name="action" value="reply" id="send">${esc(t(locale, 'web.status.send'))}</button>
${startsFrom('confirm', o.state) ? `<button type="submit" name="action" value="confirm" id="confirm" class="secondary">${esc(t(locale, 'web.status.confirm'))}</button>` : ''}${startsFrom('reopen', o.state) ? `<button type="submit" name="action" value="reopen" id="reopen" class="secondary">${esc(t(locale, 'web.status.reopen'))}</button>` : ''}
</form>` : ''}`;
  return page({ locale, nonce: o.nonce, title: t(locale, 'web.status.title', { key: o.key }), body });
}
