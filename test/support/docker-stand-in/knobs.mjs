/**
 * The stand-ins' knobs: the environment of the call, overridden by the JSON file FAKE_DOCKER_KNOBS names. Read
 * at every call, so a test changes them while sessions stay open, with no sshd reload.
 */
import { existsSync, readFileSync } from 'node:fs';

export function knobs() {
  const file = process.env.FAKE_DOCKER_KNOBS;
  const fromFile = file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  return { ...process.env, ...fromFile };
}
