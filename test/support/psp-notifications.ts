/** Where a PSP's notifications go: a gateway's endpoint for one of its merchant's PSP accounts. */
export interface NotifiedGateway {
  readonly url: string;
  readonly merchant: { readonly merchantId: string };
}

/** Posts a notification body to the gateway's endpoint for `account`, as the PSP would; the gateway's answer. */
export async function postPspNotification(gw: NotifiedGateway, account: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(`${gw.url}/psp-notifications/${gw.merchant.merchantId}/${account}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: r.status, text: await r.text() };
}
