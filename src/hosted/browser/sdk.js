// Switchyard secure fields: the script a merchant page loads from GET /sdk/v1/switchyard.js.
// The card inputs live in iframes served from the gateway's origin (secure-fields.js); this script
// only ever sees field states and the saved instrument, never the digits.
import { SecureFields } from './secure-fields.js';

const gatewayOrigin = new URL(document.currentScript.src).origin;

function decode(initResponse) {
  if (!initResponse || typeof initResponse.data !== 'string') throw new Error('Switchyard.init expects the {version, data} answer of client/init');
  return JSON.parse(atob(initResponse.data));
}

/** The SDK's secure fields: its frames tokenize into the holder's vault with the init answer's token. */
function tokenizingFields(config, options) {
  const fields = new SecureFields(gatewayOrigin, { merchant: config.sdk.merchantId }, options, (type) => (type === 'cardNumber' ? {
    token: config.token, holderReference: config.holderReference, publicKey: config.vaultConfiguration.encryptionPublicKey,
    saveUrl: config.vaultConfiguration.links.saveInstrument.href, providerConfigId: config.vaultConfiguration.providerConfigId,
  } : {}));
  /** Encrypts and saves the card inside the gateway's frame; resolves to {id, bin, suffix, network, expiryMonth, expiryYear}. */
  fields.tokenize = (opts) => fields.ask('tokenize', { storeInstrument: !!(opts && opts.storeInstrument) });
  return fields;
}

class Switchyard {
  constructor(config) { this.config = config; }
  static init(initResponse) { return new Switchyard(decode(initResponse)); }
  get holderReference() { return this.config.holderReference; }
  /** Secure fields for a new card. Options: `style` (CSS properties for the inputs), `placeholders`. */
  secureFields(options) { return tokenizingFields(this.config, options); }
  /** The holder's saved cards (masked): [{id, network, bin, suffix, expiryMonth, expiryYear}]. */
  async savedCards() {
    const res = await fetch(this.config.links.instruments.href, { headers: { authorization: `Bearer ${this.config.token}` } });
    if (!res.ok) throw new Error(`saved cards: HTTP ${res.status}`);
    const body = await res.json();
    return body.results.map((i) => ({ id: i.id, network: i.data.network, bin: i.data.bin, suffix: i.data.suffix, expiryMonth: i.data.expiryMonth, expiryYear: i.data.expiryYear }));
  }
}

window.Switchyard = Switchyard;
