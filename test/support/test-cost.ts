/** bcrypt cost 4 for tests that do not test the cost: under the floor of 10, so it must say it is for tests. */
export const TEST_COST = { bcryptCost: 4, unsafeLowCostForTests: true } as const
