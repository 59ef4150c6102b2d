/** Answers of page routes: an HTML page, or a redirect after a form (303, so the reload is a GET). */
import type { FastifyReply } from 'fastify'
import type { SafeHtml } from './html.ts'

export function sendPage(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page.toString())
}

export function redirectTo(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send()
}
