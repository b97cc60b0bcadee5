export type DialectName = 'sqlite' | 'postgres' | 'mysql'
