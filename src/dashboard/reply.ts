import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PageContext } from './layout.ts';
import type { Session } from './service.ts';

declare module 'fastify' {
  interface FastifyRequest { dashboard?: Session }
}

export const sendPage = (reply: FastifyReply, text: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(text);

/** The context of a signed-in page (the session hook has run). */
export const contextOf = (req: FastifyRequest, section: PageContext['section']): PageContext => {
  const s = req.dashboard!;
  return { user: s.user, csrfToken: s.csrfToken, section };
};
