/** One line of the `check-config` table. `skip` marks a check that could not run because a setting is missing. */
export type CheckStatus = 'ok' | 'FAIL' | 'skip';

export interface ConfigCheckRow {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

export function okRow(check: string, detail: string): ConfigCheckRow {
  return { check, status: 'ok', detail };
}

export function failRow(check: string, detail: string, fix?: string): ConfigCheckRow {
  return fix === undefined ? { check, status: 'FAIL', detail } : { check, status: 'FAIL', detail, fix };
}

export function skipRow(check: string, detail: string, fix?: string): ConfigCheckRow {
  return fix === undefined ? { check, status: 'skip', detail } : { check, status: 'skip', detail, fix };
}
