/**
 * Response serialisers, compiled when their route first answers with that status, not at start
 * (as the validators are, see validation.ts): the server has a hundred-odd response schemas,
 * most requests use a handful, and compiling them all (fast-json-stringify generates code for
 * each) was the largest part of the start's CPU time and kept the generated code in memory.
 */
import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

export function createLazySerializerFactory(
  buildSerializerCompiler: SerializerFactory = SerializerSelector(),
): SerializerFactory {
  return (externalSchemas, options) => {
    // The compiler itself (an Ajv instance for the shared schemas) is made with the first serialiser.
    let compile: ReturnType<typeof buildSerializerCompiler> | null = null
    return (route) => {
      let serialize: ((document: unknown) => string) | null = null
      return (document) =>
        (serialize ??= (compile ??= buildSerializerCompiler(externalSchemas, options))(route))(document)
    }
  }
}
