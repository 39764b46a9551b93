/**
 * An authorize that carries a fresh card (paymentComposition[0].paymentInstrumentData) with
 * storeInstrument: true, refused by the gateway (here: the execution was authorized already), does
 * not leave that card saved in the holder's wallet: the merchant was told the request failed, so
 * the card is not kept (listed to the holder's browser as a saved card), nor its CVV held.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactEncrypt, importSPKI } from 'jose';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, execution, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let token: string;
before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
after(() => gw.close());

test('a refused authorize with paymentInstrumentData + storeInstrument: true saves no card for the holder', async () => {
  const holder = 'wallet-holder';
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { workflowCode: 'payment-acceptance', holderReference: holder, workspaceId: gw.merchant.workspaceId, type: 'secureFields' } });
  assert.equal(init.status, 200);
  const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
  const key = await importSPKI(`-----BEGIN PUBLIC KEY-----\n${data.vaultConfiguration.encryptionPublicKey}\n-----END PUBLIC KEY-----`, 'RSA-OAEP-256');
  const encrypt = (card: Record<string, string>) => new CompactEncrypt(new TextEncoder().encode(JSON.stringify(card)))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' }).encrypt(key);
  const body = async (cardNumber: string, storeInstrument: boolean) => ({
    amount: { value: '10.00', currency: 'EUR' }, returnInfo: { success: 'https://shop.example/return' },
    paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: { value: '10.00', currency: 'EUR' }, storeInstrument,
      paymentInstrumentData: { encryptedData: await encrypt({ cardNumber, expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe', holderReference: holder }), vaultProviderConfigId: data.vaultConfiguration.providerConfigId } }],
  });
  const id = await execution(gw, token, holder);
  const first = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: await body('4111111111111111', false) });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  await poll(gw, token, id, ['created', 'authorizeRequested']);

  // A second authorize of the same execution (another key, another card, asked to be saved): refused.
  const second = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: await body('5555555555554444', true) });
  assert.ok(second.status >= 400, `the second authorize was refused: ${second.status} ${JSON.stringify(second.body)}`);

  const saved = await gw.app.storage.db.selectFrom('instruments').innerJoin('cards', 'cards.id', 'instruments.card_id')
    .select(['instruments.id', 'instruments.status', 'cards.last4']).where('instruments.holder_reference', '=', holder).where('instruments.status', '=', 'enabled').execute();
  assert.deepEqual(saved.map((s) => s.last4), [], `a refused authorize left the card saved in the holder's wallet: ${JSON.stringify(saved)}`);
});
