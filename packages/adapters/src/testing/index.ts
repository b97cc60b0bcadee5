// @latchkey/adapters/testing: the store contract suite, for anyone's store. Needs vitest.
export { storeContract } from './store-contract.js'
export type { StoreContractOptions } from './store-contract.js'
export { storeMethods, listStoreMethods } from './store-methods.js'
export type { StoreMethod, StoreRole } from './store-methods.js'
