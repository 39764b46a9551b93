import assert from 'node:assert/strict';

/** A signed-in dashboard session: its cookie, and a CSRF token for its forms. */
export interface DashboardSession { readonly cookie: string; readonly csrf: string }

/** Signs in through the real sign-in form (its cookie and token first), as a browser does. */
export async function signIn(url: string, email: string, password: string): Promise<DashboardSession> {
  const form = await fetch(`${url}/dashboard/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const r = await fetch(`${url}/dashboard/sign-in`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: token, email, password, next: '/dashboard' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie()[0]!.split(';')[0]!, origin: url },
  });
  assert.equal(r.status, 303);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('__Host-sy_dashboard='))!.split(';')[0]!;
  const page = await fetch(`${url}/dashboard/payments`, { headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  return { cookie, csrf };
}

/** Posts a form of the session's, from the gateway's own origin. */
export const postForm = (url: string, s: { cookie: string }, path: string, form: Record<string, string>) => fetch(`${url}${path}`, {
  method: 'POST', redirect: 'manual', body: new URLSearchParams(form),
  headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie, origin: url },
});
