/** The OpenAPI 3.1 document, generated from the route schemas themselves. */
import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'

export async function registerOpenApi(app: FastifyInstance, publicUrl: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '1',
        description: 'Sessions and user authentication. Errors are application/problem+json; see docs/errors.md.',
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookie: { type: 'apiKey', in: 'cookie', name: '__Host-session' },
          client: { type: 'http', scheme: 'basic', description: 'A service client: id and secret.' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'TESSERA_METRICS_TOKEN, when it is set.' },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
  })
}
