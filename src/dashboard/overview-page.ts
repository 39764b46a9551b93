import { html } from './html.ts';
import { page, type PageContext } from './layout.ts';
import type { DashboardDeps } from './deps.ts';

export async function overviewPage(ctx: PageContext, _deps: DashboardDeps): Promise<string> {
  return page(ctx, 'Overview', html`<p><a href="/dashboard/payments">Payments</a></p>`);
}
