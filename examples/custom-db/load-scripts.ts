// The templates' loader is the package's own; kept here for code that imported it from the examples.
export { loadScripts } from '@latchkey/sandbox'
