/**
 * Reading and writing versioned documents (session data, player data) with optimistic
 * concurrency: a write must name the version it replaces (HTTP `If-Match`), and loses with
 * `precondition_failed` when another write came first. A merge patch is read, applied and
 * written back under the version it was read at, so a concurrent write in between makes it
 * fail rather than be lost. Documents are JSON objects of at most `maxBytes` UTF-8 bytes.
 */
import { TesseraError } from '../errors.ts'
import { applyMergePatch } from './merge-patch.ts'
import type { DocumentRecord, DocumentStore } from './store.ts'

/**
 * A document with its version (0 while nothing was written). Its JSON text is the one stored,
 * always an object written by `JSON.stringify` below, so a reader sends it on as it is instead
 * of parsing it and serialising it again.
 */
export type VersionedDocument = DocumentRecord

/**
 * The versions a write may replace, from `If-Match`; null when the request named none (the
 * write is refused: it would overwrite blindly).
 */
export type ExpectedVersions = readonly number[] | null

export interface Documents {
  /** The document, `{}` at version 0 when nothing was written; `not_found` without its owner. */
  readDocument(ownerId: string): Promise<VersionedDocument>
  /** Replaces the document; throws `precondition_required`, `precondition_failed`, `data_too_large` or `not_found`. */
  replaceDocument(ownerId: string, data: unknown, expected: ExpectedVersions): Promise<VersionedDocument>
  /** Applies a JSON Merge Patch (RFC 7396); throws as `replaceDocument`. */
  patchDocument(ownerId: string, patch: unknown, expected: ExpectedVersions): Promise<VersionedDocument>
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const emptyDocument: VersionedDocument = { json: '{}', version: 0 }

function parseDocument(document: VersionedDocument): Record<string, unknown> {
  return JSON.parse(document.json) as Record<string, unknown>
}

export function createDocuments(deps: {
  store: DocumentStore
  maxBytes: number
  /** Whether the owner exists now (a read of a document never written must tell "none yet" from "no owner"). */
  hasOwner(ownerId: string): Promise<boolean>
}): Documents {
  const { store, maxBytes, hasOwner } = deps

  function requireExpected(expected: ExpectedVersions): readonly number[] {
    if (expected === null) {
      throw new TesseraError(
        'precondition_required',
        'Send If-Match with the ETag of the version you change (read it first).',
      )
    }
    return expected
  }

  function serialize(data: unknown): string {
    if (!isPlainObject(data)) throw new TesseraError('validation_failed', 'The document must be a JSON object.')
    const json = JSON.stringify(data)
    const bytes = Buffer.byteLength(json, 'utf8')
    if (bytes > maxBytes) {
      throw new TesseraError('data_too_large', `The document takes ${bytes} bytes; at most ${maxBytes} are kept.`, {
        details: { max_bytes: maxBytes },
      })
    }
    return json
  }

  function stale(): TesseraError {
    return new TesseraError(
      'precondition_failed',
      'The data changed since you read it: read it again, then retry your change.',
    )
  }

  async function write(ownerId: string, json: string, version: number): Promise<VersionedDocument> {
    const outcome = await store.writeDocument(ownerId, json, version)
    if (outcome.outcome === 'missing') throw new TesseraError('not_found', 'No such owner.')
    if (outcome.outcome === 'stale') throw stale()
    return { json, version: outcome.version }
  }

  async function readCurrent(ownerId: string): Promise<VersionedDocument> {
    const record = await store.readDocument(ownerId)
    if (record === null && !(await hasOwner(ownerId))) throw new TesseraError('not_found', 'No such owner.')
    return record ?? emptyDocument
  }

  return {
    readDocument: readCurrent,

    async replaceDocument(ownerId, data, expected) {
      const versions = requireExpected(expected)
      const json = serialize(data)
      const [only] = versions
      // One named version: the store's compare-and-set decides alone, no read needed.
      if (versions.length === 1 && only !== undefined) return write(ownerId, json, only)
      const current = await readCurrent(ownerId)
      if (!versions.includes(current.version)) throw stale()
      return write(ownerId, json, current.version)
    },

    async patchDocument(ownerId, patch, expected) {
      const versions = requireExpected(expected)
      if (!isPlainObject(patch)) throw new TesseraError('validation_failed', 'A merge patch must be a JSON object.')
      // A patch over the limit is refused before any merge work: the work per request stays bounded.
      serialize(patch)
      const current = await readCurrent(ownerId)
      if (!versions.includes(current.version)) throw stale()
      return write(ownerId, serialize(applyMergePatch(parseDocument(current), patch)), current.version)
    },
  }
}
