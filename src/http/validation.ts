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

type Validator = ((data: unknown, context?: object) => boolean) & { errors?: unknown; schemaEnv?: unknown }

/**
 * Each schema is compiled when its route first sees a request, not at start: a server has a
 * hundred-odd schemas and most requests use a handful, and compiling them all took a good part
 * of the start. The validator Fastify holds hands on the compiled function's errors.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  // Made on first use too: an Ajv instance compiles its meta-schemas when it is made.
  let strictAjv: Ajv | null = null
  let coercingAjv: Ajv | null = null
  const ajvFor = (httpPart: string | undefined): Ajv =>
    httpPart === 'body'
      ? (strictAjv ??= addFormats(new Ajv({ ...commonOptions, coerceTypes: false })))
      : (coercingAjv ??= addFormats(new Ajv({ ...commonOptions, coerceTypes: 'array' })))
  return ({ schema, httpPart }) => {
    let compiled: Validator | null = null
    const validate: Validator = (data, context) => {
      compiled ??= ajvFor(httpPart).compile(schema as object) as Validator
      const isValid = compiled(data, context)
      validate.errors = compiled.errors
      return isValid
    }
    // Fastify passes the parent (so Ajv may replace a root value) only to functions that look
    // compiled by Ajv, as this one's result is.
    validate.schemaEnv = true
    return validate as ReturnType<FastifySchemaCompiler<unknown>>
  }
}
