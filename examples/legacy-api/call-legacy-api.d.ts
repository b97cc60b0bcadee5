// callLegacyApi (call-legacy-api.js) is appended to each script's source at run time, since
// scripts cannot import one another; this tells the type check of the scripts that it exists.
declare function callLegacyApi(path: string, body: unknown): Promise<LatchkeyResponse>
