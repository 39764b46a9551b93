/** Why the vault refuses a card before anything is stored: stable codes each dialect words its own way. */
export const cardErrors = ['invalid_card_number', 'card_expired', 'brand_mismatch', 'cvv_brand_mismatch'] as const;
export type CardError = (typeof cardErrors)[number];

/**
 * The master key given does not open the key ring stored in the database: the store was created
 * (or its keys sealed) under another master key. Thrown at start, so the operator reads this
 * instead of the cipher's "unable to authenticate data".
 */
export class MasterKeyMismatchError extends Error {
  override name = 'MasterKeyMismatchError';
  constructor(version: number) {
    super(`the master key does not open this store's card keys (key version ${version} was sealed under another master key). ` +
      'Start with the master key this store was created with: SWITCHYARD_MASTER_KEY, or the master.key file in SWITCHYARD_DATA_DIR ' +
      'when that variable is unset. A new key cannot read the cards already stored.');
  }
}

/**
 * The store has no card keys yet, and this program was given no master key to make them under (no
 * SWITCHYARD_MASTER_KEY, no master.key in the data folder). A command run from a shell without the
 * server's `SWITCHYARD_MASTER_KEY` would otherwise seal the store's first key under a key it made
 * up, and the server, started with its own, would then refuse to start on the store.
 */
export class NoKeyRingError extends Error {
  override name = 'NoKeyRingError';
  constructor() {
    super('this store has no card keys yet and no master key is given: start the server once (it creates them under its master key), '
      + 'or set SWITCHYARD_MASTER_KEY as the server will have it, then run this command');
  }
}
