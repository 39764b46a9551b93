// Switchyard secure fields: the script a merchant page loads from GET /sdk/v1/switchyard.js.
// The card inputs live in iframes served from the gateway's origin; this script only ever sees
// field states (valid, empty, brand), never the digits, and talks to the frames by postMessage
// with exact origin checks both ways.

const gatewayOrigin = new URL(document.currentScript.src).origin;
const fieldTypes = ['cardNumber', 'expiry', 'cvv'];

function decode(initResponse) {
  if (!initResponse || typeof initResponse.data !== 'string') throw new Error('Switchyard.init expects the {version, data} answer of client/init');
  return JSON.parse(atob(initResponse.data));
}

function randomId() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
}

class SecureFields {
  constructor(config, options) {
    this.config = config;
    this.options = options || {};
    this.channel = randomId();
    this.frames = {};
    this.states = {};
    this.listeners = {};
    this.pending = new Map();
    this.onMessage = (event) => this.receive(event);
    window.addEventListener('message', this.onMessage);
  }

  /** Subscribes to `ready`, `change` ({field, valid, empty, complete, brand}), `focus`, `blur`. */
  on(event, fn) {
    (this.listeners[event] ||= []).push(fn);
    return this;
  }

  emit(event, detail) {
    for (const fn of this.listeners[event] || []) fn(detail);
  }

  /** Mounts one field (`cardNumber`, `expiry` or `cvv`) into the element a selector names. */
  mount(type, selector) {
    if (!fieldTypes.includes(type)) throw new Error(`unknown field ${type}; use one of ${fieldTypes.join(', ')}`);
    const host = typeof selector === 'string' ? document.querySelector(selector) : selector;
    if (!host) throw new Error(`no element matches ${selector}`);
    const frame = document.createElement('iframe');
    const params = new URLSearchParams({ type, merchant: this.config.sdk.merchantId, parent: location.origin, channel: this.channel });
    frame.src = `${gatewayOrigin}/sdk/v1/field?${params}`;
    frame.title = { cardNumber: 'Card number', expiry: 'Expiry date', cvv: 'Security code' }[type];
    frame.setAttribute('allowtransparency', 'true');
    frame.style.cssText = 'border:0;width:100%;height:44px;display:block;';
    host.replaceChildren(frame);
    this.frames[type] = frame;
    return this;
  }

  send(type, message) {
    const frame = this.frames[type];
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ sy: true, ...message }, gatewayOrigin);
  }

  receive(event) {
    // Only our own frames, from the gateway's origin, are listened to.
    if (event.origin !== gatewayOrigin) return;
    const type = fieldTypes.find((t) => this.frames[t] && this.frames[t].contentWindow === event.source);
    const m = event.data;
    if (!type || !m || m.sy !== true || m.channel !== this.channel) return;
    if (m.kind === 'ready') {
      this.send(type, {
        kind: 'configure', channel: this.channel, style: this.options.style || {}, placeholder: (this.options.placeholders || {})[type],
        ...(type === 'cardNumber' ? {
          token: this.config.token, holderReference: this.config.holderReference, publicKey: this.config.vaultConfiguration.encryptionPublicKey,
          saveUrl: this.config.vaultConfiguration.links.saveInstrument.href, providerConfigId: this.config.vaultConfiguration.providerConfigId,
        } : {}),
      });
      this.emit('ready', { field: type });
    } else if (m.kind === 'change') {
      this.states[type] = { valid: m.valid, empty: m.empty, brand: m.brand };
      this.emit('change', { field: type, valid: m.valid, empty: m.empty, complete: this.isComplete(), ...(type === 'cardNumber' ? { brand: m.brand } : {}) });
    } else if (m.kind === 'focus' || m.kind === 'blur') {
      this.emit(m.kind, { field: type });
    } else if (m.kind === 'tokenized' || m.kind === 'failed') {
      const waiting = this.pending.get(m.request);
      this.pending.delete(m.request);
      if (waiting) m.kind === 'tokenized' ? waiting.resolve(m.instrument) : waiting.reject(Object.assign(new Error(m.message), { code: m.code }));
    }
  }

  isComplete() {
    return fieldTypes.every((t) => this.states[t] && this.states[t].valid);
  }

  /** Encrypts and saves the card inside the gateway's frame; resolves to {id, bin, suffix, network, expiryMonth, expiryYear}. */
  tokenize(options) {
    const request = randomId();
    return new Promise((resolve, reject) => {
      if (!this.frames.cardNumber) return reject(new Error('mount the cardNumber field first'));
      this.pending.set(request, { resolve, reject });
      this.send('cardNumber', { kind: 'tokenize', channel: this.channel, request, storeInstrument: !!(options && options.storeInstrument) });
    });
  }

  destroy() {
    window.removeEventListener('message', this.onMessage);
    for (const t of fieldTypes) this.frames[t] && this.frames[t].remove();
  }
}

class Switchyard {
  constructor(config) { this.config = config; }
  static init(initResponse) { return new Switchyard(decode(initResponse)); }
  get holderReference() { return this.config.holderReference; }
  /** Secure fields for a new card. Options: `style` (CSS properties for the inputs), `placeholders`. */
  secureFields(options) { return new SecureFields(this.config, options); }
  /** The holder's saved cards (masked): [{id, network, bin, suffix, expiryMonth, expiryYear}]. */
  async savedCards() {
    const res = await fetch(this.config.links.instruments.href, { headers: { authorization: `Bearer ${this.config.token}` } });
    if (!res.ok) throw new Error(`saved cards: HTTP ${res.status}`);
    const body = await res.json();
    return body.results.map((i) => ({ id: i.id, network: i.data.network, bin: i.data.bin, suffix: i.data.suffix, expiryMonth: i.data.expiryMonth, expiryYear: i.data.expiryYear }));
  }
}

window.Switchyard = Switchyard;
