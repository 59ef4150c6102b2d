/**
 * Request validation. Bodies are validated strictly: no type coercion (a number is not a
 * username) and no silent removal of unknown properties (a `roles` field in a registration is
 * refused, not dropped). Query strings and path parameters are text by nature, so they are
 * coerced to the declared types.
 */
import type { FastifySchemaCompiler } from 'fastify'
import { Ajv, type Options } from 'ajv'
import addFormatsModule from 'ajv-formats'

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

const commonOptions: Options = {
  allErrors: false,
  removeAdditional: false,
  useDefaults: true,
  strict: false,
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const strictAjv = addFormats(new Ajv({ ...commonOptions, coerceTypes: false }))
  const coercingAjv = addFormats(new Ajv({ ...commonOptions, coerceTypes: 'array' }))
  return ({ schema, httpPart }) =>
    (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema as object) as ReturnType<
      FastifySchemaCompiler<unknown>
    >
}
