// The merchant page's side of the secure fields, shared by the SDK (switchyard.js) and the
// COPYandPAY widget (paymentWidgets.js). The card inputs live in iframes served from the gateway's
// origin; this code only ever sees field states (valid, empty, brand), never the digits, and talks
// to the frames by postMessage with exact origin checks both ways.

export const fieldTypes = ['cardNumber', 'expiry', 'cvv'];

export function randomId() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
}

export class SecureFields {
  /**
   * `frameQuery` says what the frames work for (`{merchant}` for the SDK, `{checkout}` for the
   * widget); `configureFor(type)` adds what one frame needs to know beyond the style.
   */
  constructor(gatewayOrigin, frameQuery, options, configureFor) {
    this.gatewayOrigin = gatewayOrigin;
    this.frameQuery = frameQuery;
    this.options = options || {};
    this.configureFor = configureFor || (() => ({}));
    this.channel = randomId();
    this.frames = {};
    this.states = {};
    this.listeners = {};
    this.pending = new Map();
    // Asks made before the card-number frame could hear them (its page still loading): sent once it is ready.
    this.waiting = [];
    this.ready = new Set();
    // Fields the page marked wrong before their frame could hear it: marked once it is ready.
    this.marks = new Set();
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
    const params = new URLSearchParams({ type, ...this.frameQuery, parent: location.origin, channel: this.channel });
    frame.src = `${this.gatewayOrigin}/sdk/v1/field?${params}`;
    // What a screen reader announces for the frame, in the page's language when it gives one.
    frame.title = (this.options.labels || {})[type] || { cardNumber: 'Card number', expiry: 'Expiry date', cvv: 'Security code' }[type];
    frame.setAttribute('allowtransparency', 'true');
    frame.style.cssText = 'border:0;width:100%;height:44px;display:block;';
    host.replaceChildren(frame);
    this.frames[type] = frame;
    this.ready.delete(type);
    return this;
  }

  send(type, message) {
    const frame = this.frames[type];
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ sy: true, ...message }, this.gatewayOrigin);
  }

  receive(event) {
    // Only our own frames, from the gateway's origin, are listened to.
    if (event.origin !== this.gatewayOrigin) return;
    const type = fieldTypes.find((t) => this.frames[t] && this.frames[t].contentWindow === event.source);
    const m = event.data;
    if (!type || !m || m.sy !== true || m.channel !== this.channel) return;
    if (m.kind === 'ready') {
      // A frame that was ready before has been loaded again, empty: what it had said no longer holds.
      const reloaded = this.states[type] !== undefined;
      if (reloaded) this.states[type] = { valid: false, empty: true };
      if (type === 'cardNumber') this.abandon();
      this.send(type, {
        kind: 'configure', channel: this.channel, style: this.options.style || {}, placeholder: (this.options.placeholders || {})[type], label: (this.options.labels || {})[type],
        // The language of the words the frame speaks: the merchant's `lang`, or the page's when the
        // merchant gave the words (labels, invalid texts) in it; else the frame's own English.
        lang: this.options.lang || (this.options.labels || this.options.invalidTexts ? document.documentElement.lang || undefined : undefined),
        invalidText: (this.options.invalidTexts || {})[type], ...this.configureFor(type),
      });
      this.ready.add(type);
      if (type === 'cardNumber') for (const m of this.waiting.splice(0)) this.send('cardNumber', m);
      if (this.marks.delete(type)) this.markInvalid(type);
      this.emit('ready', { field: type });
      if (reloaded) this.emit('change', { field: type, valid: false, empty: true, complete: false, ...(type === 'cardNumber' ? { brand: undefined } : {}) });
    } else if (m.kind === 'change') {
      this.states[type] = { valid: m.valid, empty: m.empty, brand: m.brand };
      this.emit('change', { field: type, valid: m.valid, empty: m.empty, complete: this.isComplete(), ...(type === 'cardNumber' ? { brand: m.brand } : {}) });
    } else if (m.kind === 'gone') {
      // The frame's page is being unloaded (the browser reloads the frame): asks go to the next one.
      this.ready.delete(type);
      if (type === 'cardNumber') this.abandon();
    } else if (m.kind === 'focus' || m.kind === 'blur' || m.kind === 'submit') {
      this.emit(m.kind, { field: type });
    } else if (m.kind === 'tokenized' || m.kind === 'paid' || m.kind === 'failed') {
      const waiting = this.pending.get(m.request);
      this.pending.delete(m.request);
      if (!waiting) return;
      if (m.kind === 'failed') waiting.reject(Object.assign(new Error(m.message), { code: m.code, field: m.field }));
      else waiting.resolve(m.kind === 'tokenized' ? m.instrument : m.answer);
    }
  }

  isComplete() {
    return fieldTypes.every((t) => this.states[t] && this.states[t].valid);
  }

  /** Marks a field wrong inside its frame (aria-invalid, described by what is wrong), as a page that refused the form shows it. */
  markInvalid(type) {
    if (this.ready.has(type)) this.send(type, { kind: 'invalid', channel: this.channel });
    else this.marks.add(type);
  }

  /** Asks the card-number frame to act (`tokenize`, `pay`) with the card it holds; resolves to its answer. */
  ask(kind, payload) {
    const request = randomId();
    return new Promise((resolve, reject) => {
      if (!this.frames.cardNumber) return reject(new Error('mount the cardNumber field first'));
      this.pending.set(request, { resolve, reject });
      const message = { kind, channel: this.channel, request, ...payload };
      if (this.ready.has('cardNumber')) this.send('cardNumber', message);
      else this.waiting.push(message);
    });
  }

  /**
   * Rejects the asks a card-number frame took that it will never answer (its page unloaded: the
   * frame reloaded, or the fields destroyed), so a page awaiting a tokenize hears so instead of
   * waiting for ever. Asks still queued for a frame not yet ready stay queued.
   */
  abandon(message = 'the card-number field was loaded again: enter the card again', code = 'FIELD_RELOADED') {
    const sent = [...this.pending].filter(([request]) => !this.waiting.some((m) => m.request === request));
    for (const [request, waiting] of sent) {
      this.pending.delete(request);
      waiting.reject(Object.assign(new Error(message), { code }));
    }
  }

  destroy() {
    window.removeEventListener('message', this.onMessage);
    for (const t of fieldTypes) this.frames[t] && this.frames[t].remove();
    this.waiting = [];
    this.abandon('the secure fields were destroyed', 'DESTROYED');
  }
}
