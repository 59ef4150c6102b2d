/**
 * Guest devices: sign in with a device (`POST /v1/auth/device`, which makes a guest account for
 * a new device), add a username and password to a guest (`POST /v1/me/credentials`), and link,
 * list and unlink devices (`/v1/me/devices`).
 */
import type { FastifyInstance } from 'fastify'
import type { DeviceOperations } from '../../core/application/devices.ts'
import type { SignInOperations } from '../../core/application/sign-in.ts'
import type { DeviceRecord } from '../../core/application/types.ts'
import { TesseraError } from '../../core/errors.ts'
import { classifyRequestSite } from '../cross-site.ts'
import { requireAuth } from '../plugins/authenticate.ts'
import { readClientContext } from '../request-context.ts'
import { authSecurity, passwordField, problemResponses, signInSchema, usernameField } from '../schemas/shared.ts'
import { replyWithSignIn } from '../sign-in-reply.ts'
import { viewUser } from '../views.ts'
import { authBodyLimitBytes, type AuthenticatedRouteDeps } from './route-deps.ts'

export interface DeviceRouteDeps extends AuthenticatedRouteDeps {
  devices: DeviceOperations
  signIn: Pick<SignInOperations, 'createCsrfToken'>
  absoluteTimeoutSeconds: number
  allowedOrigins: readonly string[]
}

const deviceIdField = {
  type: 'string',
  pattern: '^[\\x21-\\x7e]{8,128}$',
  description:
    "The device's own identifier (for example a random UUID it made at install): 8 to 128 visible ASCII characters.",
} as const

const deviceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Handle to unlink it with.' },
    device_id: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'device_id', 'created_at', 'last_used_at'],
} as const

function viewDevice(device: DeviceRecord) {
  return {
    id: device.id,
    device_id: device.deviceId,
    created_at: device.createdAt.toISOString(),
    last_used_at: device.lastUsedAt.toISOString(),
  }
}

export async function deviceRoutes(app: FastifyInstance, deps: DeviceRouteDeps): Promise<void> {
  const { devices, authenticate, allowedOrigins, absoluteTimeoutSeconds } = deps

  app.post<{ Body: { device_id: string; device_secret?: string; mode?: 'token' | 'cookie' } }>(
    '/v1/auth/device',
    {
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Sign in with a device',
        operationId: 'signInWithDevice',
        security: [],
        description:
          'The first call for a device id that no account has makes a guest account (no username or password, role `guest`) and answers its `device_secret`, shown this once: keep it on the device. Later calls send it. A wrong or missing secret, or the secret of an unlinked device, answers 401 `invalid_credentials`. `mode` as for `POST /v1/auth/login`.',
        tags: ['auth'],
        body: {
          type: 'object',
          properties: {
            device_id: deviceIdField,
            device_secret: { type: 'string', minLength: 1, maxLength: 256 },
            mode: { type: 'string', enum: ['token', 'cookie'] },
          },
          required: ['device_id'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            description: signInSchema.description,
            properties: {
              ...signInSchema.properties,
              device: deviceSchema,
              device_secret: {
                type: 'string',
                description: "Only when the call made the device's account: shown this once.",
              },
            },
            required: ['session_id', 'user', 'device'],
          },
          ...problemResponses(400, 401, 403, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const transport = request.body.mode ?? 'token'
      if (transport === 'cookie' && classifyRequestSite(request, allowedOrigins) === 'cross-site') {
        throw new TesseraError('csrf_rejected', 'Cookie sign-in must come from an allowed origin.')
      }
      const signIn = await devices.signInWithDevice({
        deviceId: request.body.device_id,
        deviceSecret: request.body.device_secret ?? null,
        transport,
        ...readClientContext(request),
      })
      const body = replyWithSignIn(reply, signIn, {
        createCsrfToken: deps.signIn.createCsrfToken,
        absoluteTimeoutSeconds,
      })
      return {
        ...body,
        device: viewDevice(signIn.device),
        ...(signIn.deviceSecret === null ? {} : { device_secret: signIn.deviceSecret }),
      }
    },
  )

  app.post<{ Body: { username: string; password: string } }>(
    '/v1/me/credentials',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Give a guest account a username and password',
        operationId: 'addMyCredentials',
        description:
          'For a guest account (made by a device sign-in): the same rules as registration. The account keeps its id, data, devices and sessions; its `guest` role becomes `user`. Another account answers 403.',
        tags: ['me'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { username: usernameField, password: passwordField },
          required: ['username', 'password'],
          additionalProperties: false,
        },
        response: { 200: { $ref: 'User#' }, ...problemResponses(400, 401, 403, 409, 413, 415, 503) },
      },
    },
    async (request) => {
      const auth = requireAuth(request)
      return viewUser(await devices.addCredentials(auth, request.body, readClientContext(request)))
    },
  )

  app.get(
    '/v1/me/devices',
    {
      onRequest: authenticate,
      schema: {
        summary: 'List my devices',
        operationId: 'listMyDevices',
        tags: ['me'],
        security: authSecurity,
        response: {
          200: {
            type: 'object',
            properties: { devices: { type: 'array', items: deviceSchema } },
            required: ['devices'],
          },
          ...problemResponses(400, 401),
        },
      },
    },
    async (request) => ({ devices: (await devices.listMyDevices(requireAuth(request).user.id)).map(viewDevice) }),
  )

  app.post<{ Body: { device_id: string } }>(
    '/v1/me/devices',
    {
      onRequest: authenticate,
      bodyLimit: authBodyLimitBytes,
      schema: {
        summary: 'Link a device to my account',
        operationId: 'linkMyDevice',
        description:
          'Answers the device and its `device_secret`, shown this once; the device then signs in at `POST /v1/auth/device`.',
        tags: ['me'],
        security: authSecurity,
        body: {
          type: 'object',
          properties: { device_id: deviceIdField },
          required: ['device_id'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: { ...deviceSchema.properties, device_secret: { type: 'string' } },
            required: [...deviceSchema.required, 'device_secret'],
          },
          ...problemResponses(400, 401, 403, 409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request)
      const linked = await devices.linkDevice(auth, request.body.device_id, readClientContext(request))
      return reply.code(201).send({ ...viewDevice(linked.device), device_secret: linked.deviceSecret })
    },
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/me/devices/:id',
    {
      onRequest: authenticate,
      schema: {
        summary: 'Unlink one of my devices',
        operationId: 'unlinkMyDevice',
        description:
          "The device's secret is refused from then on, and the sessions it signed in end (their holders are told `session_ended`, reason `device_unlinked`, on the event stream). Answers 404 alike for a device that does not exist and one of another user.",
        tags: ['me'],
        security: authSecurity,
        params: {
          type: 'object',
          properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
          required: ['id'],
        },
        response: { 204: { type: 'null' }, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request)
      if (!(await devices.unlinkDevice(auth, request.params.id, readClientContext(request)))) {
        throw new TesseraError('not_found', 'No such device.')
      }
      return reply.code(204).send()
    },
  )
}
