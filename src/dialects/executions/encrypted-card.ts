import type { TokenizationKeys } from '../../vault/tokenization.ts';
import type { CardDataScreen } from '../../vault/free-text.ts';
import type { CardInput } from '../../vault/card.ts';
import { utf8Text } from '../../runtime/utf8.ts';
import { ParamError, cardAt, maxJsonDepth, nestedDeeperThan, objectAt, screenCardData, stringAt, type Json } from './parse.ts';

/**
 * The card inside a JWE the merchant's page made with the public key from client/init (`keyId` is
 * that key: the client token names it, or `vaultProviderConfigId` beside the data). Opened only
 * for the merchant the key is for, screened like a plain card, and refused when it names another
 * holder than `holderReference`.
 */
export async function cardOfJwe(keys: TokenizationKeys, cardData: CardDataScreen, input: {
  merchantId: string; keyId: string; jwe: string; field: string; holderReference: string | undefined;
}): Promise<CardInput> {
  const { field, jwe } = input;
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}$/.test(jwe) || jwe.length > 8192) throw new ParamError(field, 'must be a JWE in compact serialization');
  const opened = await keys.decrypt(input.merchantId, input.keyId, jwe);
  if (!opened.ok) {
    // A key gone (expired, or replaced by the per-merchant keys of an upgrade) ends the browser's session, not its encryption.
    throw new ParamError(field, opened.reason !== 'undecryptable'
      ? 'was encrypted with a key that has expired or is no longer in use; call client/init again'
      : 'could not be decrypted: it must be RSA-OAEP-256 + A256CBC-HS512 to the public key from client/init');
  }
  // Held to what a plain body is held to: bytes that are not UTF-8, or half a surrogate pair, would
  // be stored as U+FFFD, and two holder names or references differing only there would read as one.
  const text = utf8Text(opened.plaintext);
  if (text === undefined) throw new ParamError(field, 'does not contain UTF-8 text');
  let plain: unknown;
  let broken = false;
  try {
    plain = JSON.parse(text, (k, v) => {
      if (!k.isWellFormed() || (typeof v === 'string' && !v.isWellFormed())) broken = true;
      return v;
    });
  } catch { throw new ParamError(field, 'does not contain JSON card data'); }
  if (broken) throw new ParamError(field, 'holds text that is not valid Unicode (half of a surrogate pair)');
  if (nestedDeeperThan(plain, maxJsonDepth)) throw new ParamError(field, `holds JSON nested too deeply (at most ${maxJsonDepth} levels)`);
  // The encrypted card is screened like a plain one: its holder name refused, its reference masked.
  const data = screenCardData(objectAt(plain, field, true)!, cardData) as Json;
  const inner = stringAt(data, 'holderReference');
  if (inner !== undefined && input.holderReference !== undefined && inner !== input.holderReference) throw new ParamError(field, 'was made for another holder');
  return cardAt(data);
}
