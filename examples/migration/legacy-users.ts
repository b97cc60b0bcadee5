// The legacy store's users, as an old app left them: bcrypt for the newest accounts, phpass
// (WordPress's `$P$`) for those from the PHP years, and a salted SHA-1 (sha1(password + salt), hex,
// salt in its own column) for the oldest. The hashes were made once, with each format's own
// algorithm; the passwords are here only so that the demo can type them at login.
export interface LegacyUser {
  email: string
  username: string
  name: string
  format: 'bcrypt' | 'phpass' | 'salted-sha1'
  /** What the user types; never stored in the legacy table. */
  password: string
  password_hash: string
  /** salted-sha1 only. */
  salt: string | null
}

export const LEGACY_USERS: LegacyUser[] = [
  {
    email: 'ada@example.com',
    username: 'ada',
    name: 'Ada Lovelace',
    format: 'bcrypt',
    password: 'Analytical-Engine-1843',
    password_hash: '$2b$10$Rf213/QX3Y2NGfDX6msTge/MUFW//1XTLh61WCb.qp96WePG47/Tm',
    salt: null,
  },
  {
    email: 'grace@example.com',
    username: 'grace',
    name: 'Grace Hopper',
    format: 'bcrypt',
    password: 'Harvard-Mark-I-1944',
    password_hash: '$2b$10$C63MvxODOPiVC.zYo8Em/.xrLlg48MRaeKoDEVRnffEIo.26v1KQG',
    salt: null,
  },
  {
    email: 'alan@example.com',
    username: 'alan',
    name: 'Alan Turing',
    format: 'bcrypt',
    password: 'Bombe-at-Bletchley-39',
    password_hash: '$2b$10$YA6jsLvbDES7CPUzmw8trerv1CXbDVl/8SDG3T49A8kUXbjQnqru6',
    salt: null,
  },
  {
    email: 'katherine@example.com',
    username: 'katherine',
    name: 'Katherine Johnson',
    format: 'phpass',
    password: 'Trajectory-Calc-1962',
    password_hash: '$P$BNrPTNpdjGCycI0U6S0Sbt0NlV30c5.',
    salt: null,
  },
  {
    email: 'margaret@example.com',
    username: 'margaret',
    name: 'Margaret Hamilton',
    format: 'phpass',
    password: 'Apollo-Guidance-1969',
    password_hash: '$P$B7p1AGud8ObCI7Pb1n29E3vNtN7ycA0',
    salt: null,
  },
  {
    email: 'hedy@example.com',
    username: 'hedy',
    name: 'Hedy Lamarr',
    format: 'phpass',
    password: 'Frequency-Hopping-42',
    password_hash: '$P$Bj99OEv1Y18B05b0.VQGfh/ZTAIi25/',
    salt: null,
  },
  {
    email: 'dorothy@example.com',
    username: 'dorothy',
    name: 'Dorothy Vaughan',
    format: 'salted-sha1',
    password: 'Fortran-at-Langley-61',
    password_hash: '7e6b9a91b68287828aa936a0929897dda324e4dd',
    salt: '7969d02e0b36',
  },
  {
    email: 'barbara@example.com',
    username: 'barbara',
    name: 'Barbara Liskov',
    format: 'salted-sha1',
    password: 'Substitution-Principle-87',
    password_hash: '3827d5d5766291933ca1e2eef7ff6792bd76e5d0',
    salt: '6af622617cb8',
  },
  {
    email: 'frances@example.com',
    username: 'frances',
    name: 'Frances Allen',
    format: 'salted-sha1',
    password: 'Optimizing-Compiler-06',
    password_hash: '18c868aa44318d30e0bc31d3e58669360cb1bb1e',
    salt: 'a067cf3dbfc7',
  },
]
