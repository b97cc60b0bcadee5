import type { AttackCounterStore, SettingStore, TicketStore, UserRecordStore, UserStore } from '@latchkey/core'

/** The roles of a store, as @latchkey/core splits them. */
export type StoreRole = 'users' | 'tickets' | 'counters' | 'settings' | 'lifecycle'

/** What `UserStore` adds to its four roles, beyond the `dialect` label. */
type Lifecycle = Omit<UserStore, keyof UserRecordStore | keyof TicketStore | keyof AttackCounterStore | keyof SettingStore | 'dialect'>

/**
 * Every method of every store role, by role. Each table must name exactly its interface's
 * methods (`satisfies` refuses a missing or an unknown one), so a method added to an
 * interface fails the typecheck until it is listed here, and then the contract suite
 * until a contract case calls it.
 */
export const storeMethods = {
  users: {
    findUser: true,
    insertUser: true,
    insertUsers: true,
    overwriteUser: true,
    updateUser: true,
    deleteUser: true,
    recordLogin: true,
    setPassword: true,
    passwordHistory: true,
    changeEmail: true,
    importUser: true,
    findLegacyIdentifier: true,
    isTombstoned: true,
    deleteUserWithTombstone: true,
    recordMigrationConflict: true,
    migrationStats: true,
  } satisfies Record<keyof UserRecordStore, true>,
  tickets: {
    insertTicket: true,
    findTicket: true,
    redeemVerificationTicket: true,
    consumeTicket: true,
    releaseTicket: true,
    voidTickets: true,
  } satisfies Record<keyof TicketStore, true>,
  counters: {
    takeCounterSlot: true,
    takeCounterSlots: true,
    settleCounters: true,
    clearCounters: true,
  } satisfies Record<keyof AttackCounterStore, true>,
  settings: { getSetting: true, deleteSetting: true, getOrCreateSetting: true } satisfies Record<keyof SettingStore, true>,
  lifecycle: { close: true } satisfies Record<keyof Lifecycle, true>,
} as const satisfies Record<StoreRole, Record<string, true>>

/** A method of some store role. */
export type StoreMethod = { [R in StoreRole]: keyof (typeof storeMethods)[R] }[StoreRole]

/** Every store method, with its role. */
export function listStoreMethods(): { role: StoreRole; method: StoreMethod }[] {
  return (Object.keys(storeMethods) as StoreRole[]).flatMap((role) =>
    Object.keys(storeMethods[role]).map((method) => ({ role, method: method as StoreMethod })),
  )
}
