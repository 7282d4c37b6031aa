/** Asks google-auth-library's metadata lookup directly, to show what it prints when left alone. */
import { isAvailable } from 'gcp-metadata';

process.stdout.write(`${JSON.stringify({ available: await isAvailable() })}\n`);
