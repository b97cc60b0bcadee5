-- The legacy users table these templates expect (MySQL or MariaDB).
CREATE TABLE users (
  id INT AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(255) NOT NULL UNIQUE,
  username VARCHAR(64) UNIQUE,
  password VARCHAR(255) NOT NULL,          -- a bcrypt hash
  nickname VARCHAR(255),
  email_verified TINYINT(1) NOT NULL DEFAULT 0
);
