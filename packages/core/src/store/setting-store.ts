/** The settings role of a store: small per-connection values (such as a connection's HMAC key). */
export interface SettingStore {
  /** Reads a per-connection setting; null when absent. */
  getSetting(connection: string, key: string): Promise<string | null>

  /** Deletes a per-connection setting, if present. */
  deleteSetting(connection: string, key: string): Promise<void>

  /** Reads a per-connection setting, creating it with `create()` if absent. Every process sees one value. */
  getOrCreateSetting(connection: string, key: string, create: () => string): Promise<string>
}
