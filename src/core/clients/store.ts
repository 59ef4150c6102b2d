/** A resource server allowed to call introspection. The secret is kept only as a SHA-256. */
export interface ServiceClientRecord {
  /** Public identifier, the user name of HTTP Basic authentication. */
  id: string
  /** Unique, chosen by the operator. */
  name: string
  secretHash: string
  createdAt: Date
}

export interface ServiceClientStore {
  /** Inserts a client; `name_taken` when another client has this name. */
  insertServiceClient(client: ServiceClientRecord): Promise<'inserted' | 'name_taken'>
  /** Returns the client with this id, or null. */
  findServiceClientById(id: string): Promise<ServiceClientRecord | null>
  /** Returns the client with this name, or null. */
  findServiceClientByName(name: string): Promise<ServiceClientRecord | null>
  /** Every client, by name. */
  listServiceClients(): Promise<ServiceClientRecord[]>
  /** Deletes a client; false when there was none. */
  deleteServiceClient(id: string): Promise<boolean>
}
