import { emptyAnswer, object, str, textAnswer } from '../../runtime/json-schema.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatMajorUnits } from '../../money/money.ts';
import type { MerchantService } from '../../merchants/service.ts';
import type { ExecutionService } from '../../executions/service.ts';
import { shopperStepOf } from '../../executions/model.ts';
import { escapeHtml, layout, renderEndedPage } from '../../threeds/page.ts';
import { hostedHtml, secureHosted } from '../../threeds/routes.ts';
import { uuidPattern } from './parse.ts';
import { createHash } from 'node:crypto';

export interface ConsumerWaitDeps {
  executions: ExecutionService;
  merchants: MerchantService;
  /** How long one request holds while the authorization runs before it answers with the waiting page. */
  holdMs: number;
  /** Seconds between the waiting page's reloads. */
  refreshSeconds: number;
}

export const consumerWaitPath = (executionId: string) => `/hosted/executions/${executionId}/wait`;

/**
 * The waiting page's one script: it asks the page's own address in the background (each ask is
 * held while the authorization runs) and moves on only once the gateway answers with where to go;
 * never more than one ask a second (a gateway holding no request, SWITCHYARD_LONG_POLL_MS=0, would
 * otherwise be asked in a tight loop by every waiting shopper).
 * A page that reloaded itself every few seconds put a keyboard user's focus back at the top and
 * had a screen reader start over at every reload. Allowed by its hash alone (`waitScriptSource`).
 */
const waitScript = "(function(){var self=location.href;function ask(){var at=Date.now();fetch(self,{redirect:'manual',cache:'no-store'}).then(function(r){if(r.type==='opaqueredirect'){location.replace(self);return}setTimeout(ask,(r.ok?1000:2000)-(Date.now()-at))},function(){setTimeout(ask,2000)})}ask()})()";
export const waitScriptSource = `'sha256-${createHash('sha256').update(waitScript).digest('base64')}'`;

/** The waiting page: moves on by itself once there is an outcome (the script; without script, a meta refresh), and offers a plain link to check. */
export function renderWaitPage(input: { merchantName: string; amount: string; self: string; refreshSeconds: number }): string {
  const head = `<noscript><meta http-equiv="refresh" content="${input.refreshSeconds}"></noscript>\n`;
  return layout('Processing your payment', `<p class="issuer">Switchyard · secure payment</p>
<h1>Processing your payment</h1>
<p class="lead">Your payment is being authorized. This page takes you on as soon as there is an answer; please do not close it.</p>
<dl class="summary">
  <div><dt>Merchant</dt><dd>${escapeHtml(input.merchantName)}</dd></div>
  <div><dt>Amount</dt><dd class="amount">${escapeHtml(input.amount)}</dd></div>
</dl>
<p><a href="${escapeHtml(input.self)}">Check again now</a></p>
<script>${waitScript}</script>`, head);
}

const waitSchema = {
  summary: "The shopper's wait page after authorize (links.consumerWait)", tags: ['hosted pages'],
  params: object({ id: str('The execution id.') }, ['id']),
  response: {
    200: textAnswer('A page that moves on by itself once the authorization has an outcome.', 'text/html'),
    303: emptyAnswer('On to the 3-D Secure challenge, or to the merchant\'s returnInfo URL once there is an outcome.'),
    404: textAnswer('Unknown, malformed, or not yet authorized.', 'text/html'),
  },
};

/**
 * `links.consumerWait` of every authorize acknowledgment: a gateway-hosted interstitial the shopper's
 * browser may be sent to. It forwards (303) to the 3-D Secure challenge while one is awaited, or to
 * the merchant's `returnInfo` URL once the authorization has an outcome; while the cascade still runs
 * it holds the request briefly, then shows a self-refreshing page. The execution id in the path is
 * the capability: the page shows only the merchant's name and the amount, and an unknown id, a
 * malformed one and an execution not yet authorized all get the same 404 page.
 */
export async function registerConsumerWaitRoute(app: FastifyInstance, deps: ConsumerWaitDeps): Promise<void> {
  const notFound = (reply: FastifyReply) => hostedHtml(reply, 404, renderEndedPage('not_found'));

  app.get<{ Params: { id: string } }>(consumerWaitPath(':id'), { schema: waitSchema }, async (req, reply) => {
    const id = req.params.id;
    if (!uuidPattern.test(id)) return notFound(reply);
    // A shopper who closes the tab stops the wait.
    const e = await deps.executions.forShopper(id.toLowerCase(), deps.holdMs, reply.raw);
    const step = e ? shopperStepOf(e) : undefined;
    if (!e || !step) return notFound(reply);
    if (step.kind === 'challenge') return secureHosted(reply, []).code(303).header('location', step.href).send();
    if (step.kind === 'return') return secureHosted(reply, []).code(303).header('location', step.url).send();
    const merchant = await deps.merchants.byId(e.merchantId);
    const amount = e.authorize!.amount;
    return hostedHtml(reply, 200, renderWaitPage({
      merchantName: merchant?.name ?? '', amount: `${formatMajorUnits(amount)} ${amount.currency}`,
      self: consumerWaitPath(e.id), refreshSeconds: deps.refreshSeconds,
    }), [], [waitScriptSource], true);
  });
}
