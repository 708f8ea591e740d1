// Passwords the server makes up for an admin to hand over (a new account, a reset): shown once and
// stored only as a hash, like any other password.
import { randomInt } from "node:crypto";

// No 0/O, 1/l/I: the password is read off a screen and typed or pasted elsewhere.
const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
const GROUPS = 4;
const GROUP_LENGTH = 5;

/**
 * A random password of 20 characters from a 57-letter alphabet (about 116 bits), in four groups of
 * five joined by "-" so it can be read aloud: e.g. "k7QmT-zR4pa-Wd9xe-Hs3Jn".
 */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = "";
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join("-");
}
