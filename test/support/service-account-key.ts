/** Credential files as Google's tools write them, for the bot's identity (nothing here is a real credential). */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A service-account key file (`gcloud iam service-accounts keys create` writes this shape). */
export function writeServiceAccountKey(dir: string, email: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const file = join(dir, 'service-account.json');
  const key = {
    type: 'service_account',
    project_id: email.split('@')[1]?.split('.')[0],
    private_key_id: '3f1c0ffee0ddba11',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: email,
    client_id: '107331024957294520000',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
  };
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return file;
}

/** A person's credentials (`gcloud auth application-default login` writes this shape): no email in it. */
export function writeUserCredentials(dir: string): string {
  const file = join(dir, 'application_default_credentials.json');
  const credentials = {
    type: 'authorized_user',
    client_id: '764086051850-example.apps.googleusercontent.com',
    client_secret: 'not-a-secret',
    refresh_token: 'not-a-token',
  };
  writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return file;
}
