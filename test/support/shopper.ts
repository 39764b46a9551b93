/**
 * A shopper's browser without a browser: follows a /v1 `redirect` object the way the guide's HTML
 * form would, reads the hosted page and presses one of its buttons. The browser suites do the
 * same in Chromium.
 */
export interface Redirect {
  url: string;
  method?: string;
  parameters: { name: string; value: string }[];
}

export interface HostedPage {
  status: number;
  headers: Headers;
  html: string;
  /** The form's action, resolved against the page URL. */
  action: string | undefined;
}

/** Opens the page as `redirect.method` says: a POST form with hidden fields, or a GET with the fields in the query. */
export async function openRedirect(redirect: Redirect): Promise<HostedPage> {
  const method = (redirect.method ?? 'POST').toUpperCase();
  const fields = new URLSearchParams(redirect.parameters.map((p) => [p.name, p.value]));
  let res: Response;
  if (method === 'GET') {
    const url = new URL(redirect.url);
    for (const [k, v] of fields) url.searchParams.append(k, v);
    res = await fetch(url, { redirect: 'manual' });
  } else {
    res = await fetchPage(redirect.url, { method: 'POST', body: fields });
  }
  const html = await res.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  return { status: res.status, headers: res.headers, html, action: action ? new URL(action.replace(/&#38;/g, '&'), redirect.url).toString() : undefined };
}

/** Presses a button of the page (`completed`, `failed` or `cancelled`); returns the response without following it. */
export async function answer(page: { action: string | undefined }, outcome: string): Promise<{ status: number; location: string | null; html: string }> {
  if (!page.action) throw new Error('the page has no form');
  const res = await fetch(page.action, { method: 'POST', body: new URLSearchParams({ outcome }), redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

/**
 * A fetch that does not follow redirects, but for the hosted page's answer to a form: sent on to
 * itself by GET (post/redirect/get), which a browser follows.
 */
export async function fetchPage(url: string, init: RequestInit = {}): Promise<Response> {
  const r = await fetch(url, { redirect: 'manual', ...init });
  const to = r.headers.get('location');
  if (r.status !== 303 || to === null || new URL(to, url).href !== new URL(url).href) return r;
  await r.text();
  return fetch(url, { redirect: 'manual' });
}
