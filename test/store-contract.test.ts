// The store contract suite (exported by @latchkey/adapters/testing), on every dialect in DIALECTS.
import { storeContract } from '@latchkey/adapters/testing'
import { DIALECTS, openTestStore } from './support/dialects.js'

for (const dialect of DIALECTS) storeContract(() => openTestStore(dialect), { name: `UserStore contract on ${dialect}` })
