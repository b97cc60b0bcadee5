-- The legacy users table these templates expect (PostgreSQL).
CREATE TABLE users (
  id SERIAL PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  username TEXT UNIQUE,
  password TEXT NOT NULL,                  -- a bcrypt hash
  name TEXT,
  email_verified BOOLEAN NOT NULL DEFAULT FALSE
);
