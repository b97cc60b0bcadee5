/* eslint-disable */
/**
 * Node's Buffer for scripts: bytes with utf8, hex, base64, base64url, latin1 and utf16le
 * codecs, written in plain JS. Like the prelude, this function's source text is evaluated
 * inside the sandbox, on a script's first use of `Buffer`, so it refers to nothing outside.
 */
function bufferModule() {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const B64_INDEX: Record<string, number> = {}
  for (let i = 0; i < 64; i++) B64_INDEX[B64[i]!] = i
  B64_INDEX['-'] = 62
  B64_INDEX['_'] = 63

  function utf8Encode(s: string): number[] {
    const out: number[] = []
    for (const ch of s) {
      let c = ch.codePointAt(0)!
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd
      if (c < 0x80) out.push(c)
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63))
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
    }
    return out
  }
  function utf8Decode(b: Uint8Array): string {
    let out = ''
    for (let i = 0; i < b.length; ) {
      const c = b[i]!
      let cp = 0xfffd
      let n = 1
      if (c < 0x80) cp = c
      else if (c >= 0xc0 && c < 0xe0 && i + 1 < b.length) {
        cp = ((c & 31) << 6) | (b[i + 1]! & 63)
        n = 2
      } else if (c >= 0xe0 && c < 0xf0 && i + 2 < b.length) {
        cp = ((c & 15) << 12) | ((b[i + 1]! & 63) << 6) | (b[i + 2]! & 63)
        n = 3
      } else if (c >= 0xf0 && i + 3 < b.length) {
        cp = ((c & 7) << 18) | ((b[i + 1]! & 63) << 12) | ((b[i + 2]! & 63) << 6) | (b[i + 3]! & 63)
        n = 4
      }
      out += String.fromCodePoint(cp)
      i += n
    }
    return out
  }
  function base64Encode(b: Uint8Array, url = false): string {
    let out = ''
    for (let i = 0; i < b.length; i += 3) {
      const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0)
      out +=
        B64[(n >> 18) & 63]! +
        B64[(n >> 12) & 63]! +
        (i + 1 < b.length ? B64[(n >> 6) & 63]! : '=') +
        (i + 2 < b.length ? B64[n & 63]! : '=')
    }
    return url ? out.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : out
  }
  function base64Decode(s: string): number[] {
    const clean = s.replace(/[^A-Za-z0-9+/\-_]/g, '')
    const out: number[] = []
    let bits = 0
    let acc = 0
    for (const ch of clean) {
      acc = (acc << 6) | B64_INDEX[ch]!
      bits += 6
      if (bits >= 8) {
        bits -= 8
        out.push((acc >> bits) & 0xff)
      }
    }
    return out
  }

  // Typed as a plain constructor: Buffer.from's signature is Node's, not Uint8Array's.
  const Bytes = Uint8Array as unknown as new (arg: number | ArrayBuffer) => Uint8Array<ArrayBuffer>
  class Buffer extends Bytes {
    static from(value: unknown, encoding?: string): Buffer {
      if (typeof value === 'string') return Buffer.fromBytes(encode(value, encoding))
      if (value instanceof ArrayBuffer) return new Buffer(value)
      if (Array.isArray(value) || value instanceof Uint8Array) return Buffer.fromBytes(value as ArrayLike<number>)
      if (
        value &&
        typeof value === 'object' &&
        (value as { type?: unknown }).type === 'Buffer' &&
        Array.isArray((value as { data?: unknown }).data)
      ) {
        return Buffer.fromBytes((value as { data: number[] }).data)
      }
      throw new TypeError('Buffer.from expects a string, an array, an ArrayBuffer or a Uint8Array')
    }
    static fromBytes(bytes: ArrayLike<number>): Buffer {
      const b = new Buffer(bytes.length)
      b.set(bytes)
      return b
    }
    static alloc(size: number, fill = 0): Buffer {
      const b = new Buffer(size)
      if (fill) b.fill(fill)
      return b
    }
    static isBuffer(value: unknown): boolean {
      return value instanceof Buffer
    }
    static byteLength(value: string | Uint8Array, encoding?: string): number {
      return typeof value === 'string' ? encode(value, encoding).length : value.length
    }
    static concat(list: Uint8Array[], total?: number): Buffer {
      const length = total ?? list.reduce((n, b) => n + b.length, 0)
      const out = new Buffer(length)
      let at = 0
      for (const b of list) {
        out.set(b.subarray(0, Math.max(0, length - at)), at)
        at += b.length
        if (at >= length) break
      }
      return out
    }
    override toString(encoding?: string, start = 0, end = this.length): string {
      return decode(this.subarray(start, end), encoding)
    }
    equals(other: Uint8Array): boolean {
      if (other.length !== this.length) return false
      for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false
      return true
    }
    override slice(start?: number, end?: number): Buffer {
      return Buffer.fromBytes(this.subarray(start, end))
    }
    toJSON(): { type: 'Buffer'; data: number[] } {
      return { type: 'Buffer', data: Array.from(this) }
    }
  }
  function encode(s: string, encoding = 'utf8'): number[] {
    switch (encoding.toLowerCase()) {
      case 'utf8':
      case 'utf-8':
        return utf8Encode(s)
      case 'hex': {
        const out: number[] = []
        for (let i = 0; i + 1 < s.length; i += 2) {
          const byte = parseInt(s.slice(i, i + 2), 16)
          if (Number.isNaN(byte)) break
          out.push(byte)
        }
        return out
      }
      case 'base64':
      case 'base64url':
        return base64Decode(s)
      case 'latin1':
      case 'binary':
      case 'ascii':
        return Array.from(s, (c) => c.charCodeAt(0) & 0xff)
      case 'utf16le':
      case 'utf-16le':
      case 'ucs2':
      case 'ucs-2': {
        const out: number[] = []
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i)
          out.push(c & 0xff, c >> 8)
        }
        return out
      }
      default:
        throw new TypeError(`Unknown encoding: ${encoding}`)
    }
  }
  function decode(b: Uint8Array, encoding = 'utf8'): string {
    switch (encoding.toLowerCase()) {
      case 'utf8':
      case 'utf-8':
        return utf8Decode(b)
      case 'hex':
        return Array.from(b, (x) => (x < 16 ? '0' : '') + x.toString(16)).join('')
      case 'base64':
        return base64Encode(b)
      case 'base64url':
        return base64Encode(b, true)
      case 'latin1':
      case 'binary':
        return Array.from(b, (x) => String.fromCharCode(x)).join('')
      case 'ascii':
        return Array.from(b, (x) => String.fromCharCode(x & 0x7f)).join('')
      case 'utf16le':
      case 'utf-16le':
      case 'ucs2':
      case 'ucs-2': {
        let out = ''
        for (let i = 0; i + 1 < b.length; i += 2) out += String.fromCharCode(b[i]! | (b[i + 1]! << 8))
        return out
      }
      default:
        throw new TypeError(`Unknown encoding: ${encoding}`)
    }
  }
  return Buffer
}

export const BUFFER_MODULE_SOURCE = `(${bufferModule.toString()})`
