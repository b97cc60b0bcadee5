// The special addresses of SPEC §3 (reachable only as listed IP literals), including the
// IPv6 forms that carry an IPv4 address a gateway or relay turns back into IPv4.
import { describe, expect, it } from 'vitest'
import { isSpecial } from '../packages/sandbox/src/egress/egress-policy.js'

describe('special addresses', () => {
  const special = [
    '0.0.0.0',
    '0.1.2.3',
    '127.0.0.1',
    '169.254.169.254',
    '100.100.100.200',
    '192.0.0.8',
    '192.0.0.170',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::127.0.0.1',
    '::7f00:1',
    '::a9fe:a9fe',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::7f00:1',
    '64:ff9b::169.254.169.254',
    '64:ff9b::a00:1',
    '64:ff9b:1::a9fe:a9fe',
    '2002:7f00:1::',
    '2002:a9fe:a9fe::1',
    '2001:0:4136:e378:8000:63bf:80ff:fffe',
    '2001::1',
    'fe80::1',
    'fec0::1',
    'feff::1',
    'ff02::1',
    'fd00:ec2::254',
  ]
  for (const address of special) it(`${address} is special`, () => expect(isSpecial(address)).toBe(true))

  const ordinary = ['10.0.0.1', '192.168.1.10', '8.8.8.8', '192.0.2.1', '2001:db8::1', '2606:4700::1111', 'fd12:3456::1']
  for (const address of ordinary) it(`${address} is not`, () => expect(isSpecial(address)).toBe(false))
})
