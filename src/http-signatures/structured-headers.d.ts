// structured-headers 2 declares its types only under package.json "exports", which this
// project's "moduleResolution": "node" ignores; point the bare import at its declarations.
// (Runtime resolution is unaffected: Node and Jest honour "exports" and load the CJS build.)
declare module 'structured-headers' {
  export * from 'structured-headers/dist/index.js';
}
