// One secure field, inside an iframe on the gateway's origin. The card-number frame is the
// controller: the expiry and CVV frames hand it their values over a BroadcastChannel (same origin
// only, so the merchant page cannot listen), and it either encrypts the card (JWE RSA-OAEP-256 +
// A256CBC-HS512) and saves it (the SDK), or pays a COPYandPAY checkout with it over the gateway's
// own origin (the widget, `checkout` in the frame's query). The parent page receives field states
// and the instrument or the payment's answer (masked card) only.
import { CompactEncrypt, importSPKI } from 'jose';
// The gateway's own reading of a card number, bundled in: a field calls a card valid, of a network
// and with a security code of a length, exactly as the gateway will judge it when it is saved or paid.
import { cvvLength, detectBrand, luhnValid } from '../../vault/card.ts';
import { networkOf } from '../../vault/networks.ts';

const params = new URLSearchParams(location.search);
// The gateway served this page for one reading of its query; a key given twice is read no further
// (the field stays inert) rather than as its first value, which another check may not have seen.
const repeated = ['type', 'parent', 'channel', 'checkout', 'merchant'].some((k) => params.getAll(k).length > 1);
const type = repeated ? null : params.get('type');
const parentOrigin = params.get('parent');
const channelId = params.get('channel');
const checkoutId = params.get('checkout');
// The merchant these fields were opened for (the gateway checked the framing page against its
// origins): told with every save, so a page's script cannot hand the frame another merchant's token.
const merchantId = params.get('merchant');
const input = document.getElementById('field');
const bus = new BroadcastChannel(`switchyard-${channelId}`);
let config;
const siblings = { expiry: '', cvv: '' };
// The card's brand as the card-number frame reads it (the CVV frame's length depends on it).
let cardBrand;
let toldBrand = null;

// Full-width digits (an IME left in full-width mode, a pasted number) are the digits they look like.
const digits = (s) => s.normalize('NFKC').replace(/\D/g, '');
const detected = (pan) => (pan === '' ? undefined : detectBrand(pan));
function brandOf(pan) {
  const brand = detected(pan);
  return brand && networkOf[brand];
}
function parseExpiry(text) {
  const m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(text);
  if (!m) return undefined;
  const month = Number(m[1]);
  const year = m[2].length === 2 ? 2000 + Number(m[2]) : Number(m[2]);
  // In UTC, as the gateway checks it: the shopper's local month may already (or still) differ.
  const now = new Date();
  if (month < 1 || month > 12 || year < now.getUTCFullYear() || (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1)) return undefined;
  return { expiryMonth: String(month).padStart(2, '0'), expiryYear: String(year) };
}
function state() {
  const v = input.value;
  if (type === 'cardNumber') {
    const pan = digits(v);
    // A number of no network the gateway knows is refused when saved or paid: not valid here either.
    return { valid: pan.length >= 12 && pan.length <= 19 && luhnValid(pan) && detected(pan) !== undefined, empty: pan.length === 0, brand: brandOf(pan) };
  }
  if (type === 'expiry') return { valid: parseExpiry(v) !== undefined, empty: v.trim() === '' };
  return { valid: cvvFits(v.trim(), cardBrand), empty: v.trim() === '' };
}

/** As long as the card's network prints it (the gateway's rule); before the network is known, three or four digits. */
function cvvFits(cvv, network) {
  const brand = Object.keys(networkOf).find((b) => networkOf[b] === network);
  return /^\d{3,4}$/.test(cvv) && (brand === undefined || cvv.length === cvvLength(brand));
}

/** What is wrong with the field, in words (the embedding page may give its own language's). */
const invalidTexts = { cardNumber: 'The card number is not valid', expiry: 'The expiry date is not valid', cvv: 'The security code is not valid' };
let invalidText = invalidTexts[type] || 'This value is not valid';

/**
 * Says the value is wrong to assistive technology once the shopper leaves it (not while typing):
 * marked invalid and described by a sentence saying what is wrong, read with the field.
 */
function markValidity(leaving) {
  const s = state();
  const error = document.getElementById('field-error');
  if (s.valid || s.empty) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
    if (error) error.textContent = '';
  } else if (leaving) {
    input.setAttribute('aria-invalid', 'true');
    if (error) { error.textContent = invalidText; input.setAttribute('aria-describedby', 'field-error'); }
  }
}

function toParent(message) {
  window.parent.postMessage({ sy: true, channel: channelId, ...message }, parentOrigin);
}

function format() {
  if (type === 'cardNumber') {
    const pan = digits(input.value).slice(0, 19);
    input.value = pan.replace(/(\d{4})(?=\d)/g, '$1 ');
  } else if (type === 'expiry') {
    input.value = input.value.normalize('NFKC');
    // Pasted or autofilled with a four-digit year (12/2030, 1/2030, 122030, as password managers
    // fill cc-exp): the month and the year's last two digits.
    const long = /^\s*(\d{1,2})\s*[/.\- ]+\s*(\d{4})\s*$/.exec(input.value) || /^\s*(\d{2})(20\d{2})\s*$/.exec(input.value);
    // A one-digit month ended by a separator (1/30), or one that can only be a month's only digit (3): 01, 03.
    const short = /^\s*(\d)\s*[/.\- ]+\s*(\d{0,2})\s*$/.exec(input.value) || /^\s*([2-9])\s*$/.exec(input.value);
    // A year typed out in full, key by key (12/2030): past "12 / 20" (2020, gone by) the next digit
    // goes on with the year, never cut off to leave December 2020.
    const typed = digits(input.value);
    const d = long ? `${long[1].padStart(2, '0')}${long[2].slice(2)}` : short ? `0${short[1]}${short[2] ?? ''}` : typed.slice(0, typed.slice(2, 4) === '20' ? 6 : 4);
    input.value = d.length > 2 ? `${d.slice(0, 2)} / ${d.slice(2)}` : d;
  } else {
    input.value = digits(input.value).slice(0, 4);
  }
}

input.addEventListener('input', () => {
  format();
  if (type !== 'cardNumber') bus.postMessage({ field: type, value: input.value });
  else tellBrand();
  markValidity(false);
  toParent({ kind: 'change', ...state() });
});
input.addEventListener('focus', () => toParent({ kind: 'focus' }));
// Enter submits, as in any form: the frame sits outside the page's form, so the page is told.
input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); toParent({ kind: 'submit' }); } });
input.addEventListener('blur', () => { markValidity(true); toParent({ kind: 'blur' }); });
if (type === 'cardNumber') {
  bus.onmessage = (e) => {
    if (e.data && e.data.field in siblings) siblings[e.data.field] = String(e.data.value);
    // A CVV frame that loaded after the number was typed asks for the brand.
    if (e.data && e.data.field === 'brand?') tellBrand(true);
  };
  // Loaded again (the browser reloaded this frame): the others still hold what was typed in them.
  bus.postMessage({ field: 'values?' });
} else if (type === 'cvv') {
  bus.onmessage = (e) => {
    if (e.data && e.data.field === 'values?') return bus.postMessage({ field: type, value: input.value });
    if (!e.data || e.data.field !== 'brand') return;
    const brand = typeof e.data.value === 'string' ? e.data.value : undefined;
    if (brand === cardBrand) return;
    cardBrand = brand;
    // The same digits may fit the new brand or no longer: the page hears the field's new state.
    if (input.value !== '') { markValidity(false); toParent({ kind: 'change', ...state() }); }
  };
  bus.postMessage({ field: 'brand?' });
} else {
  bus.onmessage = (e) => { if (e.data && e.data.field === 'values?') bus.postMessage({ field: type, value: input.value }); };
}

/** The card-number frame tells the CVV frame the brand whenever it changes (or when asked). */
function tellBrand(always) {
  const brand = brandOf(digits(input.value));
  if (!always && brand === toldBrand) return;
  toldBrand = brand;
  bus.postMessage({ field: 'brand', value: brand ?? null });
}

/** The card the three frames hold, or undefined once the parent was told which field is wrong. */
function cardOrRefusal(request, cvvRequired) {
  const pan = digits(input.value);
  const expiry = parseExpiry(siblings.expiry);
  const cvv = siblings.cvv.trim();
  const refuse = (field, message) => { toParent({ kind: 'failed', request, code: 'VALIDATION_FAILED', field, message }); };
  if (!state().valid) return refuse('card.number', 'The card number is not valid');
  if (!expiry) return refuse('card.expiry', 'The expiry date is not valid');
  if ((cvv || cvvRequired) && !cvvFits(cvv, brandOf(pan))) {
    return refuse('card.cvv', brandOf(pan) === 'amex' ? 'The security code of an American Express card has 4 digits' : 'The security code is not valid');
  }
  return { pan, expiry, cvv };
}

/** The save under way: the card it saves (as a key) and its answer to the page. */
let saving;

async function tokenize(request, storeInstrument) {
  const card = cardOrRefusal(request, false);
  if (!card) return;
  // Asked again while the same card is being saved (a double click on a button the page left
  // enabled): the same instrument, not a second one in the holder's saved cards.
  const key = JSON.stringify([card.pan, card.expiry, card.cvv, storeInstrument]);
  if (!saving || saving.key !== key) {
    const answer = save(card, storeInstrument);
    const done = () => { if (saving && saving.answer === answer) saving = undefined; };
    answer.then(done, done);
    saving = { key, answer };
  }
  toParent({ ...(await saving.answer), request });
}

async function save(card, storeInstrument) {
  const { pan, expiry, cvv } = card;
  const pem = `-----BEGIN PUBLIC KEY-----\n${config.publicKey}\n-----END PUBLIC KEY-----`;
  const key = await importSPKI(pem, 'RSA-OAEP-256');
  const plaintext = JSON.stringify({ cardNumber: pan, ...expiry, ...(cvv ? { securityCode: cvv } : {}), holderReference: config.holderReference });
  const encryptedData = await new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' }).encrypt(key);
  // Always the gateway's own save endpoint, beside this page (never a URL the embedding page names).
  const res = await fetch(new URL('../../public/payment/instruments', location.href), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${config.token}`, 'content-type': 'application/json', 'x-idempotency-key': crypto.randomUUID(), 'x-client-type': 'switchyard-sdk',
      ...(merchantId ? { 'x-frame-merchant': merchantId } : {}),
    },
    body: JSON.stringify({
      holderReference: config.holderReference, paymentMethod: 'card', storeInstrument,
      ...(storeInstrument ? { futureUsage: 'CardOnFile' } : {}), data: { encryptedData, vaultProviderConfigId: config.providerConfigId },
    }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status !== 201) {
    const e = body.errors && body.errors[0];
    return { kind: 'failed', code: res.status === 429 ? 'TOO_MANY_REQUESTS' : 'TOKENIZATION_FAILED', message: e ? e.detail : `HTTP ${res.status}` };
  }
  return { kind: 'tokenized', instrument: { id: body.id, bin: body.data.bin, suffix: body.data.suffix, network: body.data.network, expiryMonth: body.data.expiryMonth, expiryYear: body.data.expiryYear } };
}

/** COPYandPAY: pays the checkout with the card the frames hold; the answer shows the card masked. */
async function pay(request, m) {
  const card = cardOrRefusal(request, true);
  if (!card) return;
  const { pan, expiry, cvv } = card;
  const form = new URLSearchParams({ 'card.number': pan, 'card.expiryMonth': expiry.expiryMonth, 'card.expiryYear': expiry.expiryYear, 'card.cvv': cvv });
  if (typeof m.holder === 'string' && m.holder.trim() !== '') form.set('card.holder', m.holder.trim().slice(0, 128));
  if (typeof m.shopperResultUrl === 'string') form.set('shopperResultUrl', m.shopperResultUrl);
  if (typeof m.brands === 'string') form.set('brands', m.brands);
  for (const [k, v] of Object.entries(m.browser || {})) if (/^[a-zA-Z]+$/.test(k)) form.set(`customer.browser.${k}`, String(v).slice(0, 256));
  const res = await fetch(`/v1/checkouts/${encodeURIComponent(checkoutId)}/payment`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  const answer = await res.json().catch(() => ({ result: { code: '999.999.999', description: `HTTP ${res.status}` } }));
  toParent({ kind: 'paid', request, answer });
}

window.addEventListener('message', (event) => {
  // Only the page that embeds us, from the origin the gateway checked against the registered ones.
  if (event.origin !== parentOrigin || event.source !== window.parent) return;
  const m = event.data;
  if (!m || m.sy !== true || m.channel !== channelId) return;
  if (m.kind === 'configure') {
    config = m;
    const allowed = ['color', 'fontSize', 'fontFamily', 'fontWeight', 'letterSpacing', 'backgroundColor', 'padding'];
    for (const [k, v] of Object.entries(m.style || {})) if (allowed.includes(k) && typeof v === 'string' && !/[;{}()]/.test(v)) input.style[k] = v;
    if (typeof m.placeholder === 'string') input.placeholder = m.placeholder.slice(0, 40);
    // The input's accessible name, and what is wrong with it, in the embedding page's language, which
    // the frame's document then says it is in (a screen reader picks its voice by it).
    if (typeof m.label === 'string' && m.label.trim() !== '') input.setAttribute('aria-label', m.label.slice(0, 60));
    if (typeof m.invalidText === 'string' && m.invalidText.trim() !== '') invalidText = m.invalidText.slice(0, 80);
    if (typeof m.lang === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/.test(m.lang)) document.documentElement.lang = m.lang;
  } else if (m.kind === 'invalid') {
    // The page refused the form with this field wrong (an empty one too): said here as well, where
    // assistive technology reads the input, as the page shows it.
    input.setAttribute('aria-invalid', 'true');
    const error = document.getElementById('field-error');
    if (error) { error.textContent = invalidText; input.setAttribute('aria-describedby', 'field-error'); }
  } else if (m.kind === 'pay' && type === 'cardNumber' && config && checkoutId) {
    pay(m.request, m).catch((err) => toParent({ kind: 'failed', request: m.request, code: 'network', message: String(err && err.message || err) }));
  } else if (m.kind === 'tokenize' && type === 'cardNumber' && config && !checkoutId) {
    tokenize(m.request, m.storeInstrument === true).catch((err) => toParent({ kind: 'failed', request: m.request, code: 'TOKENIZATION_FAILED', message: String(err && err.message || err) }));
  }
});
// The embedding page focuses this frame (its label was clicked): the keys typed next belong in the input.
window.addEventListener('focus', () => { if (document.activeElement !== input) input.focus(); });
// A label clicked while this script was still loading focused the frame before the listener above
// existed: the focus is here already, so hand it to the input now.
if (document.hasFocus() && document.activeElement !== input) input.focus();
toParent({ kind: 'ready' });
// Unloaded (the browser reloads this frame): what was asked of this page will not be answered. Not
// when the page is only kept in the back/forward cache (`persisted`): restored, the same document
// answers again, and says no second `ready`.
window.addEventListener('pagehide', (event) => { if (!event.persisted) toParent({ kind: 'gone' }); });
// For pages (and tests) that must know the field now takes focus and keys.
document.body.dataset.field = 'ready';
// What was typed (or autofilled) before this script ran has fired no input event: report it now,
// or the page would wait for ever on a field that is in fact complete.
// A frame loaded again comes back empty: the card-number frame must forget what this one held
// before, or it would pay with an expiry or code the shopper no longer sees.
if (input.value !== '') format();
if (type !== 'cardNumber') bus.postMessage({ field: type, value: input.value });
if (input.value !== '') {
  if (type === 'cardNumber') tellBrand();
  toParent({ kind: 'change', ...state() });
}
