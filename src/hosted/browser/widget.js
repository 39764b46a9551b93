// The COPYandPAY payment widget: the script a shop page loads from
// GET /v1/paymentWidgets.js?checkoutId=… beside `<form action="{shopperResultUrl}" class="paymentWidgets"
// data-brands="VISA MASTER AMEX">`. It renders the card form with the gateway's secure-field frames
// (the card number, expiry and CVV never enter this page), honours `window.wpwlOptions`, pays the
// checkout, runs 3-D Secure by sending the shopper to the challenge, and lands them on the form's
// action with `id` and `resourcePath`. A decline is shown in the form so the shopper may try again.
import { SecureFields } from './secure-fields.js';
import { listedBrandFor } from '../../vault/card.ts';
import { networkOf } from '../../vault/networks.ts';

const scriptUrl = new URL(document.currentScript.src);
const gatewayOrigin = scriptUrl.origin;
const checkoutId = scriptUrl.searchParams.get('checkoutId') || '';

const texts = {
  en: {
    cardNumber: 'Card Number', expiryDate: 'Expiry Date', cvv: 'CVV', cardHolder: 'Card holder', submit: 'Pay now', savedCards: 'Saved cards',
    otherCard: 'Pay with another card', useSaved: 'Use a saved card', invalidCardNumber: 'Invalid card number or brand', invalidExpiryDate: 'Invalid expiry date',
    invalidCvv: 'Invalid CVV', brandNotSupported: 'This brand is not accepted here', declined: 'The payment was declined',
    noSession: 'This payment session is no longer valid', processing: 'Processing…', expires: 'Expires',
    connectionLost: 'The connection was lost before the answer came. Please try again.',
    underWay: 'A payment of this order is being processed. Please try again in a moment.',
    challengeOpen: 'The verification of your payment with your bank is still open.', resumeChallenge: 'Continue the verification',
    savedCardGone: 'This saved card can no longer be used. Please choose another card.',
    savedCardNotYet: 'This saved card cannot be used yet. Please try again in a moment or choose another card.',
  },
  de: {
    cardNumber: 'Kartennummer', expiryDate: 'Gültig bis', cvv: 'Prüfnummer', cardHolder: 'Karteninhaber', submit: 'Jetzt bezahlen', savedCards: 'Gespeicherte Karten',
    otherCard: 'Mit einer anderen Karte bezahlen', useSaved: 'Gespeicherte Karte verwenden', invalidCardNumber: 'Ungültige Kartennummer oder Marke',
    invalidExpiryDate: 'Ungültiges Ablaufdatum', invalidCvv: 'Ungültige Prüfnummer', brandNotSupported: 'Diese Kartenmarke wird hier nicht akzeptiert',
    declined: 'Die Zahlung wurde abgelehnt', noSession: 'Diese Zahlungssitzung ist nicht mehr gültig', processing: 'Wird bearbeitet…', expires: 'Gültig bis',
    connectionLost: 'Die Verbindung brach ab, bevor die Antwort kam. Bitte versuchen Sie es erneut.',
    underWay: 'Eine Zahlung dieser Bestellung wird gerade bearbeitet. Bitte versuchen Sie es gleich noch einmal.',
    challengeOpen: 'Die Bestätigung Ihrer Zahlung bei Ihrer Bank ist noch offen.', resumeChallenge: 'Bestätigung fortsetzen',
    savedCardGone: 'Diese gespeicherte Karte kann nicht mehr verwendet werden. Bitte wählen Sie eine andere Karte.',
    savedCardNotYet: 'Diese gespeicherte Karte kann noch nicht verwendet werden. Bitte versuchen Sie es gleich noch einmal oder wählen Sie eine andere Karte.',
  },
  fr: {
    cardNumber: 'Numéro de carte', expiryDate: "Date d'expiration", cvv: 'Cryptogramme', cardHolder: 'Titulaire de la carte', submit: 'Payer maintenant',
    savedCards: 'Cartes enregistrées', otherCard: 'Payer avec une autre carte', useSaved: 'Utiliser une carte enregistrée',
    invalidCardNumber: 'Numéro de carte ou marque invalide', invalidExpiryDate: "Date d'expiration invalide", invalidCvv: 'Cryptogramme invalide',
    brandNotSupported: "Cette marque n'est pas acceptée ici", declined: 'Le paiement a été refusé', noSession: "Cette session de paiement n'est plus valide",
    processing: 'Traitement…', expires: 'Expire',
    connectionLost: 'La connexion a été perdue avant la réponse. Veuillez réessayer.',
    underWay: 'Un paiement de cette commande est en cours de traitement. Veuillez réessayer dans un instant.',
    challengeOpen: 'La vérification de votre paiement auprès de votre banque est toujours en cours.', resumeChallenge: 'Reprendre la vérification',
    savedCardGone: "Cette carte enregistrée n'est plus utilisable. Veuillez choisir une autre carte.",
    savedCardNotYet: "Cette carte enregistrée n'est pas encore utilisable. Veuillez réessayer dans un instant ou choisir une autre carte.",
  },
  es: {
    cardNumber: 'Número de tarjeta', expiryDate: 'Fecha de caducidad', cvv: 'CVV', cardHolder: 'Titular de la tarjeta', submit: 'Pagar ahora',
    savedCards: 'Tarjetas guardadas', otherCard: 'Pagar con otra tarjeta', useSaved: 'Usar una tarjeta guardada', invalidCardNumber: 'Número de tarjeta o marca no válido',
    invalidExpiryDate: 'Fecha de caducidad no válida', invalidCvv: 'CVV no válido', brandNotSupported: 'Esta marca no se acepta aquí',
    declined: 'El pago ha sido rechazado', noSession: 'Esta sesión de pago ya no es válida', processing: 'Procesando…', expires: 'Caduca',
    connectionLost: 'Se perdió la conexión antes de la respuesta. Inténtelo de nuevo.',
    underWay: 'Se está procesando un pago de este pedido. Inténtelo de nuevo en un momento.',
    challengeOpen: 'La verificación de su pago con su banco sigue abierta.', resumeChallenge: 'Continuar la verificación',
    savedCardGone: 'Esta tarjeta guardada ya no se puede usar. Elija otra tarjeta.',
    savedCardNotYet: 'Esta tarjeta guardada aún no se puede usar. Inténtelo de nuevo en un momento o elija otra tarjeta.',
  },
  nl: {
    cardNumber: 'Kaartnummer', expiryDate: 'Vervaldatum', cvv: 'CVC', cardHolder: 'Kaarthouder', submit: 'Nu betalen', savedCards: 'Opgeslagen kaarten',
    otherCard: 'Met een andere kaart betalen', useSaved: 'Opgeslagen kaart gebruiken', invalidCardNumber: 'Ongeldig kaartnummer of merk',
    invalidExpiryDate: 'Ongeldige vervaldatum', invalidCvv: 'Ongeldige CVC', brandNotSupported: 'Dit merk wordt hier niet geaccepteerd',
    declined: 'De betaling is geweigerd', noSession: 'Deze betaalsessie is niet meer geldig', processing: 'Bezig…', expires: 'Vervalt',
    connectionLost: 'De verbinding viel weg voordat het antwoord kwam. Probeer het opnieuw.',
    underWay: 'Er wordt al een betaling van deze bestelling verwerkt. Probeer het zo meteen opnieuw.',
    challengeOpen: 'De verificatie van uw betaling bij uw bank staat nog open.', resumeChallenge: 'Verificatie hervatten',
    savedCardGone: 'Deze opgeslagen kaart kan niet meer worden gebruikt. Kies een andere kaart.',
    savedCardNotYet: 'Deze opgeslagen kaart kan nog niet worden gebruikt. Probeer het zo meteen opnieuw of kies een andere kaart.',
  },
};

// The secure field reports the network it sees; the platform names brands its own way.
const brandOfNetwork = (network) => Object.keys(networkOf).find((b) => networkOf[b] === network);
const brandLabels = { VISA: 'Visa', MASTER: 'Mastercard', AMEX: 'American Express', MAESTRO: 'Maestro', DISCOVER: 'Discover', JCB: 'JCB', DINERS: 'Diners', UNIONPAY: 'UnionPay' };

// The platform's success and pending classes of result codes (reference §5).
const succeeded = /^(000\.000\.|000\.100\.1|000\.[36]|000\.400\.(0[^3]|100))/;
const pending = /^(000\.200)/;

const css = `
.wpwl-container{box-sizing:border-box;max-width:460px;width:100%;margin:0 auto;font:15px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433}
.wpwl-container *{box-sizing:border-box}
.wpwl-style-card .wpwl-form,.wpwl-style-card .wpwl-container-registration{background:#fff;border:1px solid #dfe3ea;border-radius:14px;padding:20px;box-shadow:0 8px 24px rgba(29,36,51,.08)}
.wpwl-style-plain .wpwl-form,.wpwl-style-logos .wpwl-form,.wpwl-style-plain .wpwl-container-registration{padding:4px 0}
.wpwl-container-registration{margin-bottom:14px}
.wpwl-brand-list{display:flex;gap:6px;flex-wrap:wrap;margin-bottom:14px}
.wpwl-brand{font-size:11px;font-weight:700;letter-spacing:.04em;padding:5px 8px;border:1px solid #cfd6e1;border-radius:6px;color:#5b6474;background:#f7f8fa;transition:all .15s}
.wpwl-style-logos .wpwl-brand{font-size:13px;padding:8px 12px}
.wpwl-brand-detected{color:#fff;background:#1d4ed8;border-color:#1d4ed8}
.wpwl-brand-dimmed{opacity:.35}
.wpwl-group{margin-bottom:12px}
.wpwl-row{display:flex;gap:12px}.wpwl-row>.wpwl-group{flex:1}
.wpwl-label{display:block;font-size:13px;font-weight:600;margin-bottom:5px;color:#3b4456}
.wpwl-wrapper,.wpwl-control{display:block;width:100%;height:46px;border:1px solid #cfd6e1;border-radius:9px;background:#fff}
.wpwl-control{font:16px system-ui,sans-serif;padding:0 12px;color:#1d2433}
.wpwl-wrapper.wpwl-focus,.wpwl-control:focus{border-color:#1d4ed8;outline:2px solid rgba(29,78,216,.15)}
.wpwl-has-error .wpwl-wrapper{border-color:#c0262d}
.wpwl-hint{display:none;font-size:12px;color:#c0262d;margin-top:4px}.wpwl-has-error .wpwl-hint,.wpwl-has-error~.wpwl-hint{display:block}
.wpwl-message{border-radius:9px;padding:10px 12px;margin-bottom:12px;font-size:14px}
.wpwl-message.wpwl-has-error{background:#fdecec;color:#8f1d22;border:1px solid #f3b8bb}
.wpwl-button{display:block;width:100%;height:48px;border:0;border-radius:10px;background:#1d4ed8;color:#fff;font:600 16px system-ui,sans-serif;cursor:pointer}
.wpwl-button:disabled{opacity:.6;cursor:progress}
.wpwl-button-link{background:none;border:0;color:#1d4ed8;font:14px system-ui,sans-serif;cursor:pointer;padding:10px 0 0;text-decoration:underline}
.wpwl-registration{display:flex;align-items:center;gap:10px;border:1px solid #cfd6e1;border-radius:9px;padding:10px 12px;margin-bottom:8px;cursor:pointer}
.wpwl-registration-brand{font-weight:700;font-size:12px;min-width:80px}
.wpwl-registration-expiry{margin-left:auto;color:#5b6474;font-size:13px}
.wpwl-title{font-weight:600;margin:0 0 10px}
.wpwl-resume p{margin:0 0 10px}
@media (max-width:480px){.wpwl-style-card .wpwl-form,.wpwl-style-card .wpwl-container-registration{border-radius:0;border-left:0;border-right:0;box-shadow:none;padding:16px}}
`;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === false) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

function browserData() {
  return {
    language: navigator.language || 'en', screenWidth: screen.width, screenHeight: screen.height, screenColorDepth: screen.colorDepth,
    timezone: new Date().getTimezoneOffset(), javaEnabled: 'false', javascriptEnabled: 'true',
  };
}

/** Sends the shopper's browser where a payment's `redirect` says (the 3-D Secure challenge), posting its parameters. */
function follow(redirect) {
  if ((redirect.method || 'POST').toUpperCase() === 'GET') { location.assign(redirect.url); return; }
  const f = el('form', { method: 'POST', action: redirect.url, style: 'display:none' });
  for (const p of redirect.parameters || []) f.append(el('input', { type: 'hidden', name: p.name, value: p.value }));
  document.body.append(f);
  f.submit();
}

function call(name, ...args) {
  const fn = (window.wpwlOptions || {})[name];
  if (typeof fn !== 'function') return undefined;
  try { return fn(...args); } catch (err) { console.error(`wpwlOptions.${name} failed`, err); return undefined; }
}

let widgetsOnPage = 0;

function render(form, checkout) {
  const opts = window.wpwlOptions || {};
  const locale = String(opts.locale || 'en');
  const t = { ...texts.en, ...(texts[locale.slice(0, 2).toLowerCase()] || {}), ...(opts.labels || {}) };
  const style = ['card', 'plain', 'logos', 'none'].includes(opts.style) ? opts.style : 'card';
  const brands = (form.getAttribute('data-brands') || 'VISA MASTER AMEX').split(/\s+/).filter(Boolean);
  const detectBrands = opts.brandDetection !== false;
  const resultUrl = form.action;

  if (style !== 'none' && !document.getElementById('wpwl-styles')) document.head.append(el('style', { id: 'wpwl-styles', text: css }));
  // The language of the texts shown (English where the locale has none), so a screen reader reads them in its voice.
  const lang = texts[locale.slice(0, 2).toLowerCase()] ? locale : 'en';
  const container = el('div', { class: `wpwl-container wpwl-container-card wpwl-style-${style}`, lang });
  form.style.display = 'none';
  form.after(container);

  const message = el('div', { class: 'wpwl-message', role: 'alert', hidden: true });
  const showError = (text) => { message.textContent = text; message.className = 'wpwl-message wpwl-has-error'; message.hidden = false; };
  const clearError = () => {
    message.hidden = true; message.textContent = '';
    const resume = container.querySelector('.wpwl-resume');
    if (resume) resume.remove();
  };

  // The checkout's payment waits for its shopper's challenge, still open (the shopper came Back from
  // it): the way back to it, else the checkout stayed refused until the challenge expired.
  const resumable = (redirect) => {
    const resume = el('button', { type: 'button', class: 'wpwl-button wpwl-button-resume', text: t.resumeChallenge });
    resume.addEventListener('click', () => follow(redirect));
    return el('div', { class: 'wpwl-message wpwl-has-error wpwl-resume', role: 'alert' }, el('p', { text: t.challengeOpen }), resume);
  };

  if (!checkout.ok) {
    // Loaded while another tab's payment of the checkout is under way: the session may come back.
    container.append(checkout.redirect ? resumable(checkout.redirect)
      : el('div', { class: 'wpwl-message wpwl-has-error', role: 'alert', text: checkout.code === '800.700.100' ? t.underWay : t.noSession }));
    call('onError', { name: 'InvalidCheckoutIdError', message: checkout.description });
    return;
  }
  const c = checkout.body;
  container.append(message);

  // Where a paid checkout sends the shopper: the form's action with the checkout and its status call.
  const resultPage = () => {
    const u = new URL(resultUrl, location.href);
    u.searchParams.set('id', checkoutId);
    u.searchParams.set('resourcePath', `/v1/checkouts/${checkoutId}/payment`);
    return u.toString();
  };
  const paidRefusal = (a) => !!(a && a.result && a.result.parameterErrors && a.result.parameterErrors.some((e) => /paid already/.test(e.message || '')));
  // Another payment of the checkout (another tab's, or this one's whose answer was lost) has not
  // ended yet: a decline would give the checkout back, so the shopper may try again later.
  const underWay = (a) => !!(a && a.result && a.result.code === '800.700.100');
  // An answer lost on the way (a mobile network dropping): the payment may have gone through. The
  // checkout's own view says so (it refuses a paid checkout), and then the shopper goes to the result.
  const viewMeanwhile = async () => {
    try { return await (await fetch(`${gatewayOrigin}/v1/checkouts/${encodeURIComponent(checkoutId)}/widget`)).json(); } catch { return undefined; }
  };

  // A payment under way: its button stays disabled whatever the shopper types meanwhile.
  let paying = false;
  // The answer of a payment: the challenge, the result page, or why not, shown here.
  const settle = async (answer, buttons) => {
    if (answer.redirect && !underWay(answer)) { follow(answer.redirect); return; }
    const code = answer.result && answer.result.code || '';
    if ((succeeded.test(code) || pending.test(code)) && answer.resultUrl) { location.assign(answer.resultUrl); return; }
    const lost = code === 'network' || code === '999.999.999';
    const view = lost ? await viewMeanwhile() : undefined;
    if (paidRefusal(answer) || paidRefusal(view)) { location.assign(resultPage()); return; }
    idle(buttons);
    const first = answer.result && answer.result.parameterErrors && answer.result.parameterErrors[0];
    const detail = answer.result && (first ? first.message : answer.result.description);
    // Only an answer about the payment itself is a decline: not a lost answer, an expired session,
    // a payment still under way or a field refused.
    if (underWay(answer) && answer.redirect) { clearError(); message.after(resumable(answer.redirect)); }
    else if (underWay(answer) || underWay(view)) showError(t.underWay);
    else if (lost) showError(t.connectionLost);
    else if (code === '200.300.404' && (!first || first.name === 'id')) showError(t.noSession);
    else if (first && /^(card\.number|paymentBrand)$/.test(first.name || '')) { markError('cardNumber', true); showError(t.invalidCardNumber); }
    else if (/^(200\.|100\.100\.)/.test(code) || succeeded.test(code)) showError(detail || code);
    else showError(`${t.declined}: ${detail || code}`);
    call('onError', { name: 'PaymentError', code, message: detail });
  };
  const busy = (buttons) => { clearError(); paying = true; for (const b of buttons) { b.disabled = true; b.textContent = t.processing; } };
  const idle = (buttons) => { paying = false; for (const b of buttons) { b.disabled = false; b.textContent = t.submit; } };

  // Saved cards (registrations offered by the checkout): one click pays with the chosen one.
  let cardForm;
  if (c.registrations && c.registrations.length > 0) {
    const list = el('div', { class: 'wpwl-group-registration', role: 'radiogroup', 'aria-label': t.savedCards });
    c.registrations.forEach((r, i) => list.append(el('label', { class: 'wpwl-registration' },
      el('input', { type: 'radio', name: 'registrationId', value: r.id, checked: i === 0 }),
      el('span', { class: 'wpwl-registration-brand', text: brandLabels[r.brand] || r.brand }),
      el('span', { class: 'wpwl-registration-number', text: `•••• ${r.last4Digits}` }),
      el('span', { class: 'wpwl-registration-expiry', text: `${t.expires} ${r.expiryMonth}/${String(r.expiryYear).slice(-2)}` }))));
    const paySaved = el('button', { type: 'button', class: 'wpwl-button wpwl-button-pay', text: t.submit });
    const other = el('button', { type: 'button', class: 'wpwl-button-link', text: t.otherCard });
    const section = el('div', { class: 'wpwl-container-registration' }, el('p', { class: 'wpwl-title', text: t.savedCards }), list, paySaved, other);
    container.append(section);
    other.addEventListener('click', () => {
      const showing = cardForm.hidden;
      cardForm.hidden = !showing;
      other.textContent = showing ? t.useSaved : t.otherCard;
    });
    paySaved.addEventListener('click', async () => {
      const chosen = list.querySelector('input:checked');
      if (!chosen) return;
      if (call('onBeforeSubmitRegistration', chosen.value) === false) return;
      busy([paySaved]);
      const body = new URLSearchParams({ registrationId: chosen.value, shopperResultUrl: resultUrl });
      for (const [k, v] of Object.entries(browserData())) body.set(`customer.browser.${k}`, String(v));
      try {
        const res = await fetch(`${gatewayOrigin}/v1/checkouts/${encodeURIComponent(checkoutId)}/payment`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        const answer = await res.json();
        // No payment was made: the card itself cannot be used (the shop removed it, or the gateway
        // took it back; or its first payment has no outcome yet). Not a decline: said so, and a card
        // that is gone leaves the list (the form for a new card shows when none is left).
        const code = answer && answer.result && answer.result.code || '';
        if (/^100\.150\.20[0-2]$/.test(code)) {
          idle([paySaved]);
          if (code === '100.150.201') showError(t.savedCardNotYet);
          else {
            chosen.closest('label').remove();
            const next = list.querySelector('input');
            // The focus goes where the shopper goes on: the next saved card, or the new card's first field.
            if (next) { next.checked = true; next.focus(); } else {
              section.hidden = true; cardForm.hidden = false;
              const first = cardForm.querySelector('iframe, input:not([type=hidden])');
              if (first) first.focus();
            }
            showError(t.savedCardGone);
          }
          call('onError', { name: 'PaymentError', code, message: answer.result.description });
          return;
        }
        settle(answer, [paySaved]);
      } catch (err) {
        settle({ result: { code: '999.999.999', description: String(err && err.message || err) } }, [paySaved]);
      }
    });
  }

  // A new card: the gateway's frames hold the number, expiry and CVV; only the holder's name is typed here.
  const brandList = el('div', { class: 'wpwl-brand-list' }, ...brands.map((b) => el('span', { class: `wpwl-brand wpwl-brand-${b}`, 'data-brand': b, text: brandLabels[b] || b })));
  const hintOf = { cardNumber: t.invalidCardNumber, expiry: t.invalidExpiryDate, cvv: t.invalidCvv };
  const group = (name, label) => {
    const wrapper = el('div', { class: `wpwl-wrapper wpwl-wrapper-${name}` });
    // The field is in a frame, which a label's `for` cannot name: a click on the label focuses the
    // frame, and the frame its input, as a label does for a field of the page.
    const caption = el('label', { class: 'wpwl-label', text: label });
    caption.addEventListener('click', () => { const frame = wrapper.querySelector('iframe'); if (frame) frame.focus(); });
    const g = el('div', { class: `wpwl-group wpwl-group-${name}` }, caption, wrapper);
    return { g, wrapper, hint: el('div', { class: `wpwl-hint wpwl-hint-${name}Error`, text: hintOf[name] }) };
  };
  // A field's hint is in the form only while the field is wrong, as on the platform: a shop's own
  // CSS (or none, with style 'none') never shows hints of fields nobody typed into.
  const markError = (name, on) => {
    const { g, hint } = groups[name];
    g.classList.toggle('wpwl-has-error', on);
    if (on) { g.append(hint); fields.markInvalid(name); } else hint.remove();
  };
  const number = group('cardNumber', t.cardNumber);
  const expiry = group('expiry', t.expiryDate);
  const cvv = group('cvv', t.cvv);
  const groups = { cardNumber: number, expiry, cvv };
  const holderId = `wpwl-card-holder-${++widgetsOnPage}`;
  const holder = el('input', { id: holderId, class: 'wpwl-control wpwl-control-cardHolder', name: 'card.holder', autocomplete: 'cc-name', placeholder: t.cardHolder, maxlength: 128 });
  const submit = el('button', { type: 'submit', class: 'wpwl-button wpwl-button-pay', text: t.submit });
  cardForm = el('form', { class: 'wpwl-form wpwl-form-card', novalidate: true },
    brandList, number.g, el('div', { class: 'wpwl-row' }, expiry.g, cvv.g),
    el('div', { class: 'wpwl-group wpwl-group-cardHolder' }, el('label', { class: 'wpwl-label', for: holderId, text: t.cardHolder }), holder),
    submit);
  if (c.registrations && c.registrations.length > 0) cardForm.hidden = true;
  container.append(cardForm);

  const fields = new SecureFields(gatewayOrigin, { checkout: checkoutId }, {
    placeholders: { cvv: locale.startsWith('de') ? 'CVC' : 'CVV' }, labels: { cardNumber: t.cardNumber, expiry: t.expiryDate, cvv: t.cvv },
    lang, invalidTexts: { cardNumber: t.invalidCardNumber, expiry: t.invalidExpiryDate, cvv: t.invalidCvv },
  });
  fields.mount('cardNumber', number.wrapper).mount('expiry', expiry.wrapper).mount('cvv', cvv.wrapper);
  let detected;
  const ready = new Set();
  fields.on('ready', ({ field }) => {
    // Once: a frame the browser loads again says ready again, and the shop's onReady ran already.
    if (ready.has(field)) return;
    ready.add(field);
    if (ready.size === 3) call('onReady', [cardForm]);
  });
  fields.on('focus', ({ field }) => groups[field].wrapper.classList.add('wpwl-focus'));
  // Enter in a card field submits the card form, as Enter in any form field does (a pay under way ignores it).
  fields.on('submit', () => { if (!submit.disabled) cardForm.requestSubmit(); });
  fields.on('blur', ({ field }) => groups[field].wrapper.classList.remove('wpwl-focus'));
  // A shop's onBeforeSubmitCard that refused the form (the platform's card-holder check marks the
  // holder and disables Pay) is answered by the shopper correcting it: the form may be sent again.
  const corrected = () => {
    if (paying) return;
    submit.disabled = false;
    submit.classList.remove('wpwl-button-error');
  };
  holder.addEventListener('input', () => { holder.classList.remove('wpwl-has-error'); corrected(); });
  fields.on('change', (s) => {
    corrected();
    if (s.valid) markError(s.field, false);
    if (s.field !== 'cardNumber' || !detectBrands) return;
    // As the gateway will pay it: the listed brand that takes the card, else its own (refused below).
    const brand = brandOfNetwork(s.brand);
    detected = brand && (listedBrandFor(brand, brands) ?? brand);
    for (const b of brandList.children) {
      b.classList.toggle('wpwl-brand-detected', b.dataset.brand === detected);
      b.classList.toggle('wpwl-brand-dimmed', detected !== undefined && b.dataset.brand !== detected);
    }
    if (detected) call('onDetectBrand', [detected]);
  });

  cardForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearError();
    if (call('onBeforeSubmitCard', e) === false) return;
    let ok = true;
    let firstInvalid;
    for (const name of Object.keys(groups)) {
      const valid = fields.states[name] && fields.states[name].valid;
      markError(name, !valid);
      if (!valid && !firstInvalid) firstInvalid = name;
      ok &&= !!valid;
    }
    if (ok && detected && !brands.includes(detected)) {
      markError('cardNumber', true);
      showError(t.brandNotSupported);
      ok = false;
    }
    // The hints under the fields are only seen: the first one is also said (the message is an alert).
    if (firstInvalid) showError(hintOf[firstInvalid]);
    if (!ok) return;
    busy([submit]);
    try {
      settle(await fields.ask('pay', { holder: holder.value, brands: brands.join(' '), shopperResultUrl: resultUrl, browser: browserData() }), [submit]);
    } catch (err) {
      // The card frame was loaded again while it paid: its answer is lost, not a decline (the payment may have been made).
      if (err.code === 'FIELD_RELOADED') return settle({ result: { code: 'network' } }, [submit]);
      settle({ result: { code: err.code || '', description: t[{ 'card.number': 'invalidCardNumber', 'card.expiry': 'invalidExpiryDate', 'card.cvv': 'invalidCvv' }[err.field]] || err.message } }, [submit]);
    }
  });
}

async function start() {
  const form = document.querySelector('form.paymentWidgets');
  if (!form) return;
  let checkout;
  try {
    const res = await fetch(`${gatewayOrigin}/v1/checkouts/${encodeURIComponent(checkoutId)}/widget`);
    const body = await res.json();
    checkout = res.ok ? { ok: true, body } : { ok: false, code: body.result && body.result.code, description: body.result && body.result.description, redirect: body.redirect };
  } catch (err) {
    checkout = { ok: false, description: String(err && err.message || err) };
  }
  render(form, checkout);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
